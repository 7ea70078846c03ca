"""The display process (`pixie-display`, process.py): the only process that opens the matrix.

Everything in this package runs in it: the playback loop (player.py) with its play rules (playback.py)
and the rotation (rotation.py), the watcher that feeds it from Redis (watcher.py), and the panel's
back-ends (backends.py). It draws only with the few render modules a still needs (the idle clock, the
indicators, the transitions' blends); rendering, the web service and RQ are never imported here (a test
holds the process's modules to that). The frame-stream format it plays (../stream.py) is shared with the
render workers that write it.
"""
