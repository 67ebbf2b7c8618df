"""The loggers' side of the core.

- ``dispatch``: the combined dispatcher (declarations parsed once, ``every``, call-number counters, isolation)
- ``delivery``: the bounded background queue every background logger uses
- ``preflight``: every option checked before a run folder exists
"""
