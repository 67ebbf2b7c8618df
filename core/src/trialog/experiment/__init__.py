"""``trialog.Experiment`` and its parts.

- ``experiment``: the class (trixi's lifecycle on a crash-safe run folder)
- ``opening``: a config and options to a locked run folder with run.json
- ``state``: what a checkpoint holds and how it is restored (``set_state(state, context)``)
- ``resume``: resuming a run folder exactly (results cover, loggers' ``on_resume``)
- ``stages``: the stage bodies (begin, epoch end, finish, fail, close)
- ``lifecycle``: ``drive_lifecycle``, the one stage order of ``run``, ``run_test`` and a framework's loop
"""
