"""``trialog.Monitor`` (``trialog_xmen.Monitor``): xmen's Monitor — ``"{regex}@{N}{trigger}"`` specs fired by counted loops.

A Monitor counts five nested triggers, ``step`` ``epoch`` ``era`` ``eon`` ``supereon`` (``s e er eo se``).
Wrapping loops counts them (the innermost wrapped loop counts steps, the one around it epochs, ...)::

    m = trialog.Monitor(exp, log=("loss@100s", "val/.*@1e"), time="@1e", probe="@1e",
                        checkpoint="@1e", limit="@10e")
    exp.begin_run(); exp.restore_resumed()
    for epoch in m(itertools.count(m.epoch)):       # counts epochs; stops after 10 in all (resumes included)
        exp.begin_epoch(epoch)
        for x, y in m(loader):                      # counts steps
            loss = ...
            m.log(loss=loss)                        # or m.log(locals()): the values the specs match
        m.log({"val/acc": evaluate()})
    exp.finish_run()

Inside :meth:`trialog.Experiment.run` (which loops over the epochs itself) make the Monitor in ``setup()``
(before the resume restores its counters), wrap the batch loop in ``train()``, and count the epoch before the
epoch's checkpoint, at the end of ``validate()``::

    def setup(self):
        self.m = trialog.Monitor(self, log="loss@100s", time="@1e")
    def train(self, epoch):
        for x, y in self.m(self.loader):
            self.m.log(loss=self.step(x, y))
    def validate(self, epoch):
        self.m.log({"val/acc": self.evaluate()})
        self.m.inc("epoch")

What it does better than xmen: values come from an explicit mapping (``m.log(locals())`` or keywords), never
from the caller's stack; a regex must match a whole name (``re.fullmatch``); every spec is parsed and its
regex compiled when the Monitor is made (a bad one is a :class:`~trialog.errors.ConfigError` naming it), and a
value spec whose regex matched no value given by its first firing (a spec without a period: by the end of the
first epoch) is named in a warning. Bound to an Experiment,
the counters are a checkpoint state part: a resumed run fires every spec at the same steps as an
uninterrupted one.

When a trigger is counted (at the end of an iteration of a wrapped loop, or by :meth:`Monitor.inc`), every
spec of that trigger whose modulo divides the new count fires, in this order: ``time``, ``probe``, ``log``,
the logger specs (``sca img hist fig txt vid``), ``hooks``, ``checkpoint`` (last, so a checkpoint holds what
was just logged). A spec without ``@`` (``"acc"``) fires on every :meth:`Monitor.log` that gives a matching
value. Each firing passes only the values given (:meth:`Monitor.log`) since that spec last fired.

- ``log``: each matching value becomes a result (``exp.add_result(value, name, counter=count)``, so the
  results log and every logger see it); without an Experiment it is printed.
- ``sca img hist fig txt vid``: through the Experiment's loggers (``show_value``, ``show_image``,
  ``show_histogram``, ``show_figure``, ``show_text``, ``show_video``): TensorBoard with trialog-tensorboard,
  files with trialog-file, ...; ``counter`` is the trigger's count.
- ``time``: ``"@N{trigger}"`` records ``time/<trigger>_s`` (mean seconds per unit of the trigger over the
  last N) and, from the step loops' ``next()`` calls, ``time/data_wait_s`` and ``time/compute_s`` (mean per
  step: waiting for the data vs running the loop body).
- ``probe``: ``"@N{trigger}"`` records ``sys/rss_peak_mb`` and what the ``probe_resources`` hook of the
  ``trialog.plugins`` modules returns (trialog-torch: ``sys/gpu_mem_peak_mb``).
- ``checkpoint``: ``"@N{trigger}"`` saves the Experiment's checkpoint (``exp.save_checkpoint()``).
- ``limit``: ``"@N{trigger}"``: the wrapped loops stop once the trigger counted N (resumed counts included).
- ``hooks``: :class:`MonitorHook` objects (``"{regex}@{N}{trigger}"``, or ``"{regex}"`` for a hook called
  by :meth:`Monitor.to_hooks`); a framework plugin adds its own (trialog-torch: module checkpoints).
"""

from __future__ import annotations

import functools
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trialog.api import peak_rss_mb
from trialog.errors import ConfigError, TrialogWarning

#: The triggers, innermost first, and their abbreviations (xmen's).
TRIGGERS: tuple[str, ...] = ("step", "epoch", "era", "eon", "supereon")
ABBREVIATIONS: dict[str, str] = {"s": "step", "e": "epoch", "er": "era", "eo": "eon", "se": "supereon"}
_TRIGGER_NAMES = {**{t: t for t in TRIGGERS}, **ABBREVIATIONS}
_PERIOD = re.compile(r"(?P<n>[0-9]+)(?P<trigger>[a-z]+)")
#: The logger specs and the logger method each calls with (value, name, counter=count).
LOGGER_SPECS: dict[str, str] = {
    "sca": "show_value",
    "img": "show_image",
    "hist": "show_histogram",
    "fig": "show_figure",
    "txt": "show_text",
    "vid": "show_video",
}


def trigger_name(text: str) -> str:
    """The full trigger name of ``text`` (a name or its abbreviation); ConfigError when unknown."""
    name = _TRIGGER_NAMES.get(text)
    if name is None:
        raise ConfigError(
            f"unknown monitor trigger {text!r}; choose from {', '.join(TRIGGERS)} or {', '.join(ABBREVIATIONS)}"
        )
    return name


@dataclass(frozen=True)
class Spec:
    """One parsed ``"{regex}[->{target}][@{N}{trigger}]"`` spec.

    ``regex`` (compiled, matched with ``fullmatch``; None for a spec such as ``"@1e"``), ``target`` (the text
    after ``->``, xmen's message target), ``modulo`` and ``trigger`` (None for a spec without ``@``).
    """

    text: str
    regex: re.Pattern[str] | None
    target: str | None
    modulo: int | None
    trigger: str | None

    @classmethod
    def parse(cls, text: str, what: str = "spec") -> Spec:
        """Parse ``text``; a :class:`~trialog.errors.ConfigError` names ``what`` and the spec when it is wrong."""
        if not isinstance(text, str):
            raise ConfigError(f"monitor {what} must be a string like 'loss@10s', not {text!r}")
        body, at, period = text.rpartition("@")
        if not at:
            body, period = text, ""
        modulo = trigger = None
        if at:
            match = _PERIOD.fullmatch(period)
            if match is None:
                raise ConfigError(
                    f"monitor {what} {text!r}: the part after '@' must be a count and a trigger, like '10s' or '1e'"
                )
            modulo = int(match["n"])
            if modulo < 1:
                raise ConfigError(f"monitor {what} {text!r}: the count after '@' must be at least 1")
            try:
                trigger = trigger_name(match["trigger"])
            except ConfigError as exc:
                raise ConfigError(f"monitor {what} {text!r}: {exc}") from None
        source, arrow, target = body.partition("->")
        try:
            regex = re.compile(source) if source else None
        except re.error as exc:
            raise ConfigError(
                f"monitor {what} {text!r}: {source!r} is not a regular expression ({exc})"
            ) from None
        if regex is None and not at:
            raise ConfigError(f"monitor {what} {text!r} is empty: give a regex, '@N{{trigger}}', or both")
        return cls(text, regex, target if arrow else None, modulo, trigger)

    def matches(self, name: str) -> bool:
        """Whether ``name`` matches the whole regex (a spec without one matches nothing)."""
        return self.regex is not None and self.regex.fullmatch(name) is not None


class MonitorHook:
    """A user hook: called with the values matching its spec whenever the spec fires.

    Override :meth:`__call__`. ``spec`` is ``"{regex}@{N}{trigger}"`` (fired by the counters with the values
    given to :meth:`Monitor.log`) or ``"{regex}"`` (called by :meth:`Monitor.to_hooks` with its matching keywords).
    """

    #: Pass only the values given since the hook last fired (False: every matching value known, e.g. a model
    #: given once whose state changes).
    fresh_only: bool = True

    def __init__(self, spec: str):
        self.spec = Spec.parse(spec, f"hook {type(self).__name__}")

    def __call__(self, monitor: Monitor, values: Mapping[str, Any], trigger: str | None, count: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")


class _Firing:
    """One spec and what it does when it fires; remembers which value versions it already passed on."""

    def __init__(
        self,
        kind: str,
        spec: Spec,
        action: Callable[[Mapping[str, Any], str | None, int], None],
        fresh_only: bool = True,
    ):
        self.kind = kind
        self.fresh_only = fresh_only
        self.spec = spec
        self.action = action
        self.seen: dict[str, int] = {}
        # manual hooks get their values from to_hooks(), not from log(): nothing to check
        self.checked = spec.regex is None or (kind == "hook" and spec.trigger is None)

    def fresh(self, values: Mapping[str, Any], versions: Mapping[str, int]) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            version = versions[name]
            if (self.seen.get(name) != version or not self.fresh_only) and self.spec.matches(name):
                out[name] = value
                self.seen[name] = version
        return out


class Monitor:
    """Counts loop iterations and fires ``"{regex}@{N}{trigger}"`` specs (see the module docs).

    Args:
        experiment: the :class:`trialog.Experiment` whose results, loggers and checkpoints the specs use;
            its checkpoints then hold the counters (a state part named ``name``). None: values are printed.
        log, sca, img, hist, fig, txt, vid, time, probe, checkpoint, limit: a spec or a sequence of specs.
        hooks: :class:`MonitorHook` objects.
        name: the checkpoint state part's name (two monitors on one Experiment need two names).
    """

    def __init__(
        self,
        experiment: Any = None,
        *,
        log: str | Sequence[str] = (),
        sca: str | Sequence[str] = (),
        img: str | Sequence[str] = (),
        hist: str | Sequence[str] = (),
        fig: str | Sequence[str] = (),
        txt: str | Sequence[str] = (),
        vid: str | Sequence[str] = (),
        time: str | Sequence[str] = (),
        probe: str | Sequence[str] = (),
        checkpoint: str | Sequence[str] = (),
        limit: str | Sequence[str] = (),
        hooks: Iterable[MonitorHook] = (),
        name: str = "monitor",
    ):
        self.experiment = experiment
        self.counts: dict[str, int] = dict.fromkeys(TRIGGERS, 0)
        self._values: dict[str, Any] = {}
        self._versions: dict[str, int] = {}
        self._depth = 0
        self._deepest = 0
        self._stopped = False
        self._started = dict.fromkeys(TRIGGERS, _clock())
        self._data_s = 0.0
        self._compute_s = 0.0
        self._timed_steps = 0
        firings: list[_Firing] = []
        needs_experiment = {"sca", "img", "hist", "fig", "txt", "vid", "checkpoint"}
        groups: list[tuple[str, Any, Callable[[Spec], Any]]] = [
            ("time", time, lambda s: functools.partial(self._fire_time, s.modulo or 1)),
            ("probe", probe, lambda s: self._fire_probe),
            ("log", log, lambda s: self._fire_log),
            *[
                (k, v, self._logger_action(k))
                for k, v in (
                    ("sca", sca),
                    ("img", img),
                    ("hist", hist),
                    ("fig", fig),
                    ("txt", txt),
                    ("vid", vid),
                )
            ],
        ]
        for kind, specs, make in groups:
            for text in _as_list(specs, kind):
                spec = Spec.parse(text, kind)
                if kind in ("time", "probe") and (spec.regex is not None or spec.trigger is None):
                    raise ConfigError(f"monitor {kind} {text!r}: give only a period, like '@10s' or '@1e'")
                if kind in needs_experiment and experiment is None:
                    raise ConfigError(
                        f"monitor {kind} {text!r} needs an Experiment: Monitor(exp, {kind}=...)"
                    )
                firings.append(_Firing(kind, spec, make(spec)))
        for hook in hooks:
            if not isinstance(hook, MonitorHook):
                raise ConfigError(f"monitor hooks must be MonitorHook objects, not {type(hook).__name__}")
            firings.append(_Firing("hook", hook.spec, _hook_action(self, hook), hook.fresh_only))
        for text in _as_list(checkpoint, "checkpoint"):
            spec = Spec.parse(text, "checkpoint")
            if spec.regex is not None or spec.trigger is None:
                raise ConfigError(f"monitor checkpoint {text!r}: give only a period, like '@1e'")
            if experiment is None:
                raise ConfigError(
                    f"monitor checkpoint {text!r} needs an Experiment: Monitor(exp, checkpoint=...)"
                )
            firings.append(_Firing("checkpoint", spec, lambda v, t, c: experiment.save_checkpoint()))
        self._limits: list[Spec] = []
        for text in _as_list(limit, "limit"):
            spec = Spec.parse(text, "limit")
            if spec.regex is not None or spec.trigger is None:
                raise ConfigError(f"monitor limit {text!r}: give only a period, like '@20s' or '@10e'")
            self._limits.append(spec)
        self._periodic: dict[str, list[_Firing]] = {t: [] for t in TRIGGERS}
        self._on_log: list[_Firing] = []
        for firing in firings:
            if firing.spec.trigger is None:
                self._on_log.append(firing)
            else:
                self._periodic[firing.spec.trigger].append(firing)
        self.firings: tuple[_Firing, ...] = tuple(firings)
        self.name = name
        if experiment is not None:
            experiment.add_state_part(
                name, self.state_dict, self.load_state_dict, restore_on=("resume", "load")
            )

    # ------------------------------------------------------------------ counters
    def __getattr__(self, name: str) -> int:
        # m.step, m.epoch, m.e ... read the counters
        full = _TRIGGER_NAMES.get(name)
        if full is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        counts = self.__dict__.get("counts")
        if counts is None:
            raise AttributeError(name)
        return counts[full]

    def modulo(self, trigger: str, modulo: int, exclude_1st: bool = False) -> bool:
        """Whether the trigger's count is divisible by ``modulo`` (``exclude_1st``: not at count 0)."""
        count = self.counts[trigger_name(trigger)]
        return count % modulo == 0 and not (exclude_1st and count == 0)

    @property
    def stopped(self) -> bool:
        """Whether a ``limit`` was reached (the wrapped loops stop)."""
        return self._stopped or any(self.counts[s.trigger] >= s.modulo for s in self._limits)  # type: ignore[index,operator]

    def inc(self, trigger: str) -> None:
        """Count one ``trigger`` and fire its due specs."""
        full = trigger_name(trigger)
        self.counts[full] += 1
        count = self.counts[full]
        if full == "epoch":  # the specs without a period have had an epoch to see their values
            for firing in self._on_log:
                self._check(firing)
        for firing in self._periodic[full]:
            if count % firing.spec.modulo == 0:  # type: ignore[operator]
                self._check(firing)
                self._run(firing, full, count)

    def __call__(self, iterable: Iterable[Any], trigger: str | None = None) -> Iterator[Any]:
        """Wrap a loop: each finished iteration counts one ``trigger`` (default: by nesting, innermost = step)."""
        fixed = None if trigger is None else trigger_name(trigger)
        return self._wrap(iter(iterable), fixed)

    def _wrap(self, iterator: Iterator[Any], fixed: str | None) -> Iterator[Any]:
        depth = self._depth
        self._depth += 1
        self._deepest = max(self._deepest, depth)
        try:
            while not self.stopped:
                t0 = _clock()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                t1 = _clock()
                yield item
                level = fixed or self._level(depth)
                if level == "step":
                    self._data_s += t1 - t0
                    self._compute_s += _clock() - t1
                    self._timed_steps += 1
                self.inc(level)
        finally:
            self._depth = depth

    def _level(self, depth: int) -> str:
        index = self._deepest - depth
        if index >= len(TRIGGERS):
            raise ConfigError(
                f"a Monitor counts at most {len(TRIGGERS)} nested loops ({', '.join(TRIGGERS)})"
            )
        return TRIGGERS[index]

    # ------------------------------------------------------------------ values
    def log(self, values: Mapping[str, Any] | None = None, /, **kw: Any) -> None:
        """Give the monitor values (``m.log(locals())``, ``m.log(loss=loss)``); the specs pick theirs by name.

        Specs without ``@`` fire at once for the values given here; the others when their trigger is due.
        """
        given = dict(values or {})
        given.update(kw)
        for key, value in given.items():
            if not isinstance(key, str):
                raise ConfigError(f"Monitor.log: value names must be strings, not {key!r}")
            self._values[key] = value
            self._versions[key] = self._versions.get(key, 0) + 1
        for firing in self._on_log:
            if firing.kind != "hook":
                self._run(firing, None, 0)

    def to_hooks(self, **values: Any) -> None:
        """Call the hooks without a period (``"{regex}"``) with the given values that match them (xmen's)."""
        for firing in self._on_log:
            if firing.kind == "hook":
                matched = {k: v for k, v in values.items() if firing.spec.matches(k)}
                if matched:
                    firing.action(matched, None, 0)

    def _check(self, firing: _Firing) -> None:
        if firing.checked:
            return
        firing.checked = True
        if not any(firing.spec.matches(k) for k in self._values):
            when = "its first firing" if firing.spec.trigger else "the first epoch"
            warnings.warn(
                f"monitor {firing.kind} spec {firing.spec.text!r} matched no value by {when} "
                f"(values given: {sorted(self._values) or 'none'}); check the regex (it must match the whole "
                "name) and that Monitor.log() receives the value",
                TrialogWarning,
                stacklevel=5,
            )

    def _run(self, firing: _Firing, trigger: str | None, count: int) -> None:
        values = firing.fresh(self._values, self._versions) if firing.spec.regex is not None else {}
        if values or firing.spec.regex is None:
            firing.action(values, trigger, count)

    # ------------------------------------------------------------------ actions
    def _fire_log(self, values: Mapping[str, Any], trigger: str | None, count: int) -> None:
        exp = self.experiment
        for name, value in values.items():
            if exp is not None:
                exp.add_result(value, name, counter=count if trigger else None)
            else:
                where = f"[{trigger} {count}] " if trigger else ""
                print(f"{where}{name}: {value}", flush=True)

    def _logger_action(
        self, kind: str
    ) -> Callable[[Spec], Callable[[Mapping[str, Any], str | None, int], None]]:
        method = LOGGER_SPECS[kind]

        def make(spec: Spec) -> Callable[[Mapping[str, Any], str | None, int], None]:
            def action(values: Mapping[str, Any], trigger: str | None, count: int) -> None:
                show = getattr(self.experiment.clog, method)
                for name, value in values.items():
                    if kind == "txt":
                        show(str(value), name=name, counter=count if trigger else None)
                    else:
                        show(value, name, counter=count if trigger else None)

            return action

        return make

    def _record(self, values: Mapping[str, float], trigger: str | None, count: int) -> None:
        for name, value in values.items():
            self._fire_log({name: value}, trigger, count)

    def _fire_time(self, period: int, values: Mapping[str, Any], trigger: str | None, count: int) -> None:
        assert trigger is not None
        now = _clock()
        record = {f"time/{trigger}_s": (now - self._started[trigger]) / period}
        self._started[trigger] = now
        if self._timed_steps:
            record["time/data_wait_s"] = self._data_s / self._timed_steps
            record["time/compute_s"] = self._compute_s / self._timed_steps
            self._data_s = self._compute_s = 0.0
            self._timed_steps = 0
        self._record(record, trigger, count)

    def _fire_probe(self, values: Mapping[str, Any], trigger: str | None, count: int) -> None:
        record = {"sys/rss_peak_mb": peak_rss_mb()}
        exp = self.experiment
        if exp is not None and exp.plugin_hooks.has("probe_resources"):
            for part in exp.plugin_hooks.call("probe_resources"):
                record.update(part or {})
        self._record(record, trigger, count)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The counters (what a checkpoint stores)."""
        return {"counts": dict(self.counts)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s counters."""
        counts = state.get("counts", {})
        for trigger in TRIGGERS:
            self.counts[trigger] = int(counts.get(trigger, 0))

    def summary(self, verbose: int = 0) -> str:
        """The counters (and with ``verbose``, the specs) as text."""
        lines = [", ".join(f"{t}={self.counts[t]}" for t in TRIGGERS)]
        if verbose:
            lines += [f"  {f.kind}: {f.spec.text}" for f in self.firings]
            lines += [f"  limit: {s.text}" for s in self._limits]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Monitor({self.summary()})"


def _hook_action(monitor: Monitor, hook: MonitorHook) -> Callable[[Mapping[str, Any], str | None, int], None]:
    return lambda values, trigger, count: hook(monitor, values, trigger, count)


def _as_list(specs: str | Sequence[str], kind: str) -> list[str]:
    if isinstance(specs, str):
        return [specs]
    if not isinstance(specs, (list, tuple)):
        raise ConfigError(f"monitor {kind} must be a spec string or a list of them, not {specs!r}")
    return list(specs)


def _clock() -> float:
    return time.perf_counter()


__all__ = [
    "ABBREVIATIONS",
    "LOGGER_SPECS",
    "TRIGGERS",
    "Monitor",
    "MonitorHook",
    "Spec",
    "trigger_name",
]
