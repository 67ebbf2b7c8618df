"""trixi's files in a run folder, written by the trixi API (``trixi.experiment.PytorchExperiment``) only.

- ``result/results-log.json``: trixi's results log (a JSON array, one ``{name: {"data", "label", "epoch",
  "counter"}}`` element per line), derived from trialog's crash-safe ``result/results.jsonl`` (the source of
  truth) and replaced atomically (temporary file, fsync, rename), so a reader always finds a complete,
  valid JSON array. It is brought up to date at every epoch end and at the end of the run, and while
  results are added whenever their number has grown by a quarter since the last rewrite: the total cost
  stays linear in the number of results.
- ``config/exp.json``: trixi's run state (``name``, ``time``, ``state``, ``current_time``, ``epoch``).
- ``checkpoint/<name>.pth.tar``: trixi's flat checkpoint ``{attribute: state_dict or value}`` of a named
  checkpoint (``checkpoint_current``, ``checkpoint_last``), written atomically; its sha256 is recorded in
  ``checkpoint/<name>.pth.tar.sha256`` (the new checksum before the file is renamed into place, the old
  one kept until then, so a crash between the two renames never makes a good file look corrupt) and
  checked before the file is loaded.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialog.api import write_atomic, write_json
from trialog.errors import CheckpointError, CorruptFileError

RESULTS_LOG = "results-log.json"
EXP_JSON = "exp.json"
CHECKSUM_SUFFIX = ".sha256"
_TIME_FORMAT = "%y-%m-%d_%H:%M:%S"  # trixi's


class TrixiResultsLog:
    """``result/results-log.json`` derived from ``result/results.jsonl`` (read incrementally, never written)."""

    def __init__(self, result_dir: str | os.PathLike[str]) -> None:
        self.source = Path(result_dir) / "results.jsonl"
        self.path = Path(result_dir) / RESULTS_LOG
        self._offset = 0  # bytes of the source already converted
        self._tail = b""  # the last converted bytes: a rewound and regrown source no longer starts with them
        self._counters: dict[Any, Any] = {}  # trixi's counter per name, for results recorded without one
        self._parts: dict[tuple[Any, Any], tuple[str, str]] = {}  # (name, tag) -> the element's fixed text
        self._elements: list[bytes] = []
        self._pending = 0  # results added since the last rewrite

    def note(self) -> None:
        """One result was added: rewrite once the results have grown by a quarter since the last rewrite."""
        self._pending += 1
        if self._pending * 4 >= len(self._elements) + self._pending:
            self.sync()

    def sync(self) -> Path:
        """Convert the records appended to the source since the last call and replace the trixi file."""
        self._pending = 0
        try:
            size = self.source.stat().st_size
        except FileNotFoundError:
            size = 0
        start = max(self._offset - len(self._tail), 0)
        data = b""
        if size >= self._offset and size > start:
            with open(self.source, "rb") as f:
                f.seek(start)
                data = f.read(size - start)
        if size < self._offset or not data.startswith(self._tail):
            # the log was rewound (a resume to an earlier checkpoint), maybe regrown since: start over
            self._offset, self._tail, self._elements, self._counters = 0, b"", [], {}
            with open(self.source, "rb") as f:
                data = f.read(size)
        new = data[len(self._tail) :]
        end = new.rfind(b"\n") + 1  # complete lines only
        lines = [line for line in new[:end].splitlines() if line.strip()]
        if lines:  # one parse for the batch: json's C decoder, not a call per record
            for record in json.loads(b"[" + b",".join(lines) + b"]"):
                self._elements.append(self._element(record))
        if end:
            self._offset += end
            self._tail = new[max(end - 64, 0) : end]
        body = b",\n".join(self._elements)
        # derived from the durable source: no fsync (a power loss may bring back an older, still valid array)
        write_atomic(self.path, b"[\n" + body + (b"\n]\n" if body else b"]\n"), durable=False)
        return self.path

    def _element(self, record: Mapping[str, Any]) -> bytes:
        """trixi's element of a record; without a counter, trixi's count per name (0, 1, ... or on from the
        last counter given)."""
        name, tag, counter = record.get("name"), record.get("tag"), record.get("counter")
        if counter is None:
            last = self._counters.get(name)
            counter = 0 if last is None else last + 1
        self._counters[name] = counter
        key = (name, tag)
        parts = self._parts.get(key)
        if parts is None:
            parts = self._parts[key] = (
                "{" + json.dumps(name) + ': {"data": ',
                ', "label": ' + json.dumps(tag) + ', "epoch": ',
            )
        return f'{parts[0]}{_json(record.get("value"))}{parts[1]}{_json(record.get("epoch"))}, "counter": {_json(counter)}}}}}'.encode()


def _json(value: Any) -> str:
    """``json.dumps(value)``, by hand for the plain numbers of a training loop (the hot path)."""
    if type(value) is int:
        return str(value)
    if type(value) is float and value - value == 0.0:
        return repr(value)
    return json.dumps(value)


def write_exp_json(config_dir: str | os.PathLike[str], name: str, start: Any, state: str, epoch: int) -> Path:
    """trixi's ``config/exp.json``, replaced atomically; ``start`` is the run's ISO start time (now if None)."""
    try:
        started = _dt.datetime.fromisoformat(start).astimezone().strftime(_TIME_FORMAT)
    except (TypeError, ValueError):
        started = _dt.datetime.now().strftime(_TIME_FORMAT)
    data = {
        "name": name,
        "time": started,
        "state": state,
        "current_time": _dt.datetime.now().strftime(_TIME_FORMAT),
        "epoch": epoch,
    }
    path = Path(config_dir) / EXP_JSON
    write_json(path, data, indent=4, durable=False)
    return path


def _sums(path: Path) -> list[str]:
    try:
        return json.loads(Path(str(path) + CHECKSUM_SUFFIX).read_text())["sha256"]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptFileError(f"checksum file {path}{CHECKSUM_SUFFIX} is unreadable ({exc})") from exc


def write_flat_checkpoint(path: str | os.PathLike[str], flat: Mapping[str, Any]) -> Path:
    """Write trixi's flat checkpoint ``flat`` to ``path`` atomically and record its checksum beside it."""
    import torch

    target = Path(path)
    buffer = io.BytesIO()
    torch.save(dict(flat), buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    sums = Path(str(target) + CHECKSUM_SUFFIX)
    old = [s for s in _sums(target) if s != digest][:1]
    # The new checksum first (beside the old one), then the file, then the new checksum alone.
    write_json(sums, {"sha256": [digest, *old]}, indent=None)
    write_atomic(target, data)
    write_json(sums, {"sha256": [digest]}, indent=None)
    return target


def verify_flat_checkpoint(path: str | os.PathLike[str]) -> None:
    """Check a ``.pth.tar`` against its recorded sha256 (CheckpointError on a mismatch); files without one
    (trixi's own) pass."""
    target = Path(path)
    sums = _sums(target)
    if not sums:
        return
    hasher = hashlib.sha256()
    with open(target, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            hasher.update(block)
    if hasher.hexdigest() not in sums:
        raise CheckpointError(
            f"checkpoint file {target} is corrupt: its sha256 does not match the one recorded in "
            f"{target}{CHECKSUM_SUFFIX}; it was not loaded"
        )
