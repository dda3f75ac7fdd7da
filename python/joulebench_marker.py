"""joulebench_marker: region markers for a Python program measured by
`joulebench exec` (a plain file: copy it next to the program or put its
folder on PYTHONPATH; nothing to build).

    import joulebench_marker as jb
    jb.region_begin("decode")
    ...
    jb.region_end("decode", units=tokens)

    with jb.region("prefill", units=len(prompt)):
        ...

Under `joulebench exec` each region becomes its own entry of the record
(time, energy per unit with source and uncertainty, counters); elsewhere
every call does nothing. The protocol is the one of joulebench/marker.h
(METHODOLOGY.md, "Region markers"): one message per call on the socket whose
descriptor JB_MARKER_FD names, answered once joulebench has read its energy
sources and counters. Mark regions from one thread.
"""

import contextlib
import os
import socket

PROTOCOL_VERSION = 1
_sock = None
_looked = False


def _socket():
    global _sock, _looked
    if not _looked:
        _looked = True
        fd = os.environ.get("JB_MARKER_FD")
        version = os.environ.get("JB_MARKER_VERSION")
        if fd is not None and fd.isdigit() and version == str(PROTOCOL_VERSION):
            try:
                _sock = socket.socket(fileno=int(fd))
            except OSError:
                _sock = None
    return _sock


def _send(msg):
    s = _socket()
    if s is None:
        return False
    try:
        s.send(msg.encode("ascii"))
        return s.recv(1) == b"k"
    except OSError:
        return False


def active():
    """True when running under joulebench exec."""
    return _socket() is not None


def region_begin(name):
    return _send("B " + name) if _socket() is not None else False


def region_end(name, units=1):
    return _send("E %s %.17g" % (name, float(units))) if _socket() is not None else False


@contextlib.contextmanager
def region(name, units=1):
    region_begin(name)
    try:
        yield
    finally:
        region_end(name, units)
