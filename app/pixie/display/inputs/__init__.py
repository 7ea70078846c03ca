"""Live frames over UDP (issue 32): FlaschenTaschen (flaschen.py) and DDP (ddp.py) datagrams, parsed in the
display process off the refresh core and shown straight on the panel, never queued, stored or written anywhere.
The parsers are pure code (no sockets): a datagram in, a tile or packet out, or `Malformed` with a short reason
that the receiver counts; the compositors (`Layers`, `Canvas`) turn them into whole RGB24 frames.
"""
