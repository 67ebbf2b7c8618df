"""The names trialog-xmen provides in the ``trialog`` namespace (``trialog.exports``) are its own objects."""

from __future__ import annotations

import trialog_xmen

import trialog


def test_trialog_names_come_from_trialog_xmen():
    from trialog import Monitor, MonitorHook, param

    assert (Monitor, MonitorHook, param) == (
        trialog_xmen.Monitor,
        trialog_xmen.MonitorHook,
        trialog_xmen.param,
    )
    assert trialog.Monitor is trialog_xmen.Monitor
