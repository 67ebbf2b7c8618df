"""The hook markers; plugins write ``from trialog import hookimpl``."""

import pluggy

PROJECT = "trialog"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
