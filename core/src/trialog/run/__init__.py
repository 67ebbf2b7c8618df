"""The run folder.

- ``folder``: creation (trixi's layout), run.json's one writer with a heartbeat, the ``Run`` reader, ``walk_runs``
- ``liveness``: whether a run is alive (its process, heartbeat, lock): the one ``run_status``
- ``provenance``: package versions, git state, sources
- ``redact``: credentials never reach a run folder
- ``machine``: the machine a run ran on (run.json's ``machine``)
- ``capture``: the run's console and crash, kept in its folder
- ``notes``: notes on a run (``exp.note``)
- ``threads``: a process's compute threads (``TRIALOG_THREADS``), recorded in run.json
- ``repair``: cut a damaged results log back to the last checkpoint
"""
