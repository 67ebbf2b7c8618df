"""The typed contracts of the entry-point groups (trialog.hooks.contracts), and where the core checks them."""

import pytest

from trialog import hookimpl
from trialog.checkpoint.manager import NpzFormat, resolve_format
from trialog.errors import CheckpointError, LoggerConfigError
from trialog.hooks.contracts import CheckpointFormat, check_format, logger_traits
from trialog.loggers.dispatch import CombinedLogger, parse_loggers
from trialog.loggers.preflight import check_loggers


class Plain:
    @hookimpl
    def show_value(self, value):
        pass


def test_a_logger_declaring_nothing_gets_the_defaults():
    assert logger_traits(Plain(), "'p' (Plain)") == (False, "drop_oldest")


@pytest.mark.parametrize(
    "attrs, match",
    [
        ({"background": "yes"}, r"logger 'x' \(Odd\): its background must be True or False, got 'yes'"),
        (
            {"queue_policy": "drop_newest"},
            r"logger 'x' \(Odd\): its queue_policy must be one of drop_oldest, block",
        ),
    ],
)
def test_a_logger_declaring_a_wrong_kind_of_value_is_named(attrs, match):
    odd = type("Odd", (Plain,), attrs)
    with pytest.raises(LoggerConfigError, match=match):
        CombinedLogger({"x": odd})


def test_the_stats_a_logger_keeps_are_reported_at_close():
    class Counting(Plain):
        stats = {"posted": 3}

    assert CombinedLogger({"c": Counting()}).close()["c"]["stats"] == {"posted": 3}


def test_checkpoint_formats_are_checked_against_the_protocol():
    assert isinstance(NpzFormat(), CheckpointFormat)

    class Half:
        extension = ".half"

        def save(self, state, path):
            pass

    assert not isinstance(Half(), CheckpointFormat)
    with pytest.raises(CheckpointError, match=r"format 'Half' .*lacks load, snapshot"):
        resolve_format(Half)
    assert check_format("npz", NpzFormat()).extension == ".npz"


def test_declarations_are_parsed_and_checked_once(monkeypatch):
    """preflight parses and checks a config's loggers; CombinedLogger takes the result as it is."""
    from trialog.loggers import dispatch

    parsed = check_loggers({"p": {"type": Plain, "every": 2}})
    assert parsed["p"].checked[0] is Plain and parse_loggers(parsed) == parsed

    def never(*args, **kwargs):
        raise AssertionError("a declaration was parsed or checked twice")

    monkeypatch.setattr(dispatch, "parse_declaration", never)
    monkeypatch.setattr(dispatch, "check_class", never)
    clog = CombinedLogger(parsed)
    assert clog["p"].__class__ is Plain and clog._loggers[0].every == 2
    clog.close()
