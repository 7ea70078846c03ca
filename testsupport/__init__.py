"""What the tests (tests/) and the benchmarks (bench/) share to run things of their own.

A top-level package so that both import it without a path of their own: `python -m bench`
runs from the repo root, and pytest.ini puts the root on pytest's path.
"""
