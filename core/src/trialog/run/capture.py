"""The run's console and crash, kept in its folder (xmen's ``stdout_to_txt``).

:class:`ConsoleCapture` tees ``sys.stdout``/``sys.stderr`` into ``log/stdout.txt``/``log/stderr.txt`` (made
at the first line; a resumed run appends): the terminal still sees everything, the files get each complete
line redacted (:func:`trialog.run.redact.redact_text`). What a C extension or a child process writes to file
descriptor 1 itself reaches the terminal only. :func:`write_error` keeps the exception that ended a run.
"""

from __future__ import annotations

import sys
import threading
import traceback
from pathlib import Path
from typing import Any, TextIO

from trialog.run.redact import redact_text

#: How many of the traceback's last lines run.json keeps.
TRACEBACK_TAIL_LINES = 20
STDOUT_NAME = "stdout.txt"
STDERR_NAME = "stderr.txt"
ERROR_NAME = "error.txt"


class _Tee:
    """A text stream that writes to the original stream and, line by line and redacted, to a file."""

    def __init__(self, original: TextIO, path: Path):
        self.original = original
        self.path = path
        self._file: TextIO | None = None  # opened at the first line: a run that prints nothing gets no file
        self._closed = False
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        written = self.original.write(text)
        with self._lock:
            if self._closed:
                return written
            self._pending += text
            if "\n" in self._pending:
                complete, _, self._pending = self._pending.rpartition("\n")
                self._append(complete + "\n")
        return written

    def _append(self, text: str) -> None:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8", errors="replace")
        self._file.write(redact_text(text))
        self._file.flush()

    def flush(self) -> None:
        self.original.flush()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._pending:
                self._append(self._pending)
                self._pending = ""
            if self._file is not None:
                self._file.close()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, buffer...: the original's
        return getattr(self.original, name)


class ConsoleCapture:
    """Tee ``sys.stdout``/``sys.stderr`` into ``log_dir`` between :meth:`start` and :meth:`stop`."""

    def __init__(self, log_dir: str | Path):
        self.log_dir = Path(log_dir)
        self._tees: tuple[_Tee, _Tee] | None = None

    def start(self) -> None:
        """Begin teeing (does nothing when already started)."""
        if self._tees is not None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = _Tee(sys.stdout, self.log_dir / STDOUT_NAME)
        err = _Tee(sys.stderr, self.log_dir / STDERR_NAME)
        self._tees = (out, err)
        sys.stdout, sys.stderr = out, err  # type: ignore[assignment]

    def stop(self) -> None:
        """Restore the streams (only those still ours) and close the files."""
        if self._tees is None:
            return
        out, err = self._tees
        self._tees = None
        if sys.stdout is out:
            sys.stdout = out.original
        if sys.stderr is err:
            sys.stderr = err.original
        out.close()
        err.close()


def write_error(log_dir: str | Path, exc: BaseException) -> str:
    """Write ``exc``'s full traceback to ``log_dir/error.txt`` (redacted); return its last lines."""
    text = redact_text("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    path = Path(log_dir) / ERROR_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return "\n".join(text.rstrip("\n").splitlines()[-TRACEBACK_TAIL_LINES:])


__all__ = [
    "ERROR_NAME",
    "STDERR_NAME",
    "STDOUT_NAME",
    "TRACEBACK_TAIL_LINES",
    "ConsoleCapture",
    "write_error",
]
