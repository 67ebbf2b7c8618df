"""Core costs: show_value through the dispatcher (nobody due, 5 loggers due), a logger called on its own, import time, `trialog plugins list`."""

from __future__ import annotations

import sys
from collections import defaultdict

from _common import command_seconds, per_call, report

from trialog import hookimpl
from trialog.hooks.markers import raw_impl
from trialog.loggers.dispatch import CombinedLogger


class NullLogger:
    @hookimpl
    def show_value(self, value, name, counter, tag):
        pass


def trixi_style_combined(loggers_and_freqs):
    """trixi 0.1's CombinedLogger algorithm (counters per method and name, kwargs scanning), as the baseline."""
    cntr = {}
    freq = {}
    name_cntr = {}
    methods = []
    for logger, every in loggers_and_freqs:
        method = raw_impl(logger.show_value)  # the implementation, as trixi called its loggers' methods
        methods.append(method)
        cntr[method], freq[method], name_cntr[method] = 0, every, defaultdict(int)

    def surrogate(*args, **kwargs):
        for method in methods:
            try:
                count = cntr[method]
                if not freq[method]:
                    continue
                use_name = False
                if "name" in kwargs and not kwargs.get("ignore_name_in_args"):
                    count = name_cntr[method][kwargs["name"]]
                    use_name = True
                if kwargs.get("log_all") is True:
                    method(*args, **kwargs)
                    continue
                if count % freq[method] == 0:
                    method(*args, **kwargs)
                if use_name:
                    name_cntr[method][kwargs["name"]] += 1
                elif not kwargs.get("do_not_increase"):
                    cntr[method] += 1
            except Exception:
                print("a combi logger method failed")

    return surrogate


def main() -> None:
    never = 10**9
    clog = CombinedLogger({"null": (NullLogger, {}, never)})
    clog.show_value(1.0, "loss", tag="train")  # the first call logs; every later one is not due
    trixi = trixi_style_combined([(NullLogger(), never)])
    trixi(1.0, name="loss", counter=None, tag="train")
    n = 500_000
    ours = per_call(lambda: clog.show_value(1.0, "loss", tag="train"), n)
    base = per_call(lambda: trixi(1.0, name="loss", counter=None, tag="train"), n)
    report(
        "show_value, no logger due",
        ours * 1e6,
        "us",
        "trixi CombinedLogger algorithm",
        base * 1e6,
        "<= 0.5 us",
    )

    five = [NullLogger() for _ in range(5)]
    clog5 = CombinedLogger({f"null{i}": lg for i, lg in enumerate(five)})
    # The implementations themselves, as the dispatcher calls them (not their direct-call wrappers).
    direct_methods = [raw_impl(lg.show_value) for lg in five]

    def direct():
        for m in direct_methods:
            m(1.0, "loss", None, "train")

    n = 100_000
    through = per_call(lambda: clog5.show_value(1.0, "loss", tag="train"), n)
    plain = per_call(direct, n)
    trixi5 = trixi_style_combined([(lg, 1) for lg in five])
    base5 = per_call(lambda: trixi5(1.0, name="loss", counter=None, tag="train"), n)
    report(
        "show_value, 5 loggers due, overhead over calling them directly",
        (through - plain) * 1e6,
        "us",
        "trixi CombinedLogger algorithm overhead",
        (base5 - plain) * 1e6,
        "<= 10 us",
    )

    n = 100_000
    wrapped = per_call(lambda: five[0].show_value(1.0, "loss", tag="train"), n)
    raw = direct_methods[0]
    bare_call = per_call(lambda: raw(1.0, "loss", None, "train"), n)
    report(
        "a logger called on its own (logger.show_value(1.0, 'loss', tag=...), the spec's defaults filled)",
        wrapped * 1e6,
        "us",
        "calling its implementation with every argument",
        bare_call * 1e6,
        "<= 5 us",
    )

    imp = command_seconds([sys.executable, "-c", "import trialog"])
    bare = command_seconds([sys.executable, "-c", "pass"])
    report("python -c 'import trialog'", imp * 1e3, "ms", "python -c pass", bare * 1e3, "<= 100 ms")
    listing = command_seconds([sys.executable, "-m", "trialog.cli", "plugins", "list"])
    report("trialog plugins list", listing * 1e3, "ms", "python -c pass", bare * 1e3, "<= 300 ms")


if __name__ == "__main__":
    main()
