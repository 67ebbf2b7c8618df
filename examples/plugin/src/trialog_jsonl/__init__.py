"""A trialog logger plugin in one class: every value and text as one JSON line in the run folder."""

from __future__ import annotations

import json
from pathlib import Path

from trialog.api import hookimpl
from trialog.errors import LoggerConfigError


class JsonLinesLogger:
    """Writes ``{"name", "tag", "counter", "value"}`` lines to ``<run_dir>/log/<filename>``."""

    background = False  # True would move it off the training thread (for slow backends)

    def __init__(self, run_dir: Path | None = None, filename: str = "values.jsonl"):
        if run_dir is None:
            raise LoggerConfigError("logger 'jsonl' needs a run folder (run it inside an Experiment)")
        path = Path(run_dir) / "log" / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a", encoding="utf-8")

    @hookimpl
    def show_value(self, value, name, counter, tag):
        self.file.write(json.dumps({"name": name, "tag": tag, "counter": counter, "value": value}) + "\n")

    @hookimpl
    def show_text(self, text, name):
        self.file.write(json.dumps({"name": name, "text": text}) + "\n")

    @hookimpl
    def flush(self):
        self.file.flush()

    @hookimpl
    def close(self):
        self.file.close()
