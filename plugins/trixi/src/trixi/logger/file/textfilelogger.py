"""``trixi.logger.file.textfilelogger``: trixi's TextFileLogger, python ``logging`` into trialog's text logs."""

from __future__ import annotations

import itertools
import logging
import os
import sys
from typing import IO, Any

from trialog_file import FileLogger

from trialog.api import hookimpl
from trialog.errors import ConfigError

from .._dispatched import DispatchedLogger

_SERIAL = itertools.count()


class _TextLogHandler(logging.Handler):
    """Sends each formatted record to the file logger's text log ``name`` (``<base_dir>/<name>.log``)."""

    def __init__(self, owner: TextFileLogger, name: str) -> None:
        super().__init__()
        self.owner = owner
        self.log_name = name
        self.setFormatter(logging.Formatter("%(levelname)s - %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.owner.clog.show_text(text=self.format(record), name=self.log_name)
        except Exception:
            self.handleError(record)


class TextFileLogger(DispatchedLogger):
    """trixi's ``TextFileLogger(base_dir=None, logging_level=10, logging_stream=sys.stdout,
    default_stream_handler=True)``: python loggers by name, writing ``base_dir/<name>.log`` and the stream.

    The log files are :class:`trialog_file.FileLogger` text logs (each line starts with its timestamp, then
    ``LEVEL - message``). Without ``base_dir`` there are no files, only the stream.
    """

    def __init__(
        self,
        base_dir: str | os.PathLike[str] | None = None,
        logging_level: int = logging.DEBUG,
        logging_stream: IO[str] = sys.stdout,
        default_stream_handler: bool = True,
        **kwargs: Any,
    ) -> None:
        if base_dir is not None:
            file_logger: Any = FileLogger(folder=base_dir, log_dir=base_dir, csv="off", **kwargs)
        else:
            if kwargs:
                raise ConfigError(f"TextFileLogger: file logger options {sorted(kwargs)} need a base_dir")
            file_logger = _NoFiles()
        super().__init__(file_logger, "file")
        self.base_dir = None if base_dir is None else str(base_dir)
        self.logging_level = logging_level
        self.logging_stream = logging_stream
        self.loggers: dict[str, logging.Logger] = {}
        self.logging_identifier = f"{os.getpid()}-{next(_SERIAL)}"
        self.add_logger("default", stream_handler=default_stream_handler, file_handler=base_dir is not None)

    def add_logger(
        self,
        name: str,
        logging_level: int | None = None,
        file_handler: Any = True,
        stream_handler: bool = True,
    ) -> None:
        """Add the python logger ``name``; ``file_handler=True`` logs to ``<base_dir>/<name>.log`` (a file name,
        a list of them, or ``logging`` handlers are taken too), ``stream_handler`` to the stream."""
        logger = logging.getLogger(f"trixi.{name}-{self.logging_identifier}")
        logger.setLevel(self.logging_level if logging_level is None else logging_level)
        logger.propagate = False
        self.loggers[name] = logger
        handlers = file_handler if isinstance(file_handler, (list, tuple, set)) else [file_handler]
        for handler in handlers:
            if handler is True:
                self.add_file_handler(name, name)
            elif isinstance(handler, logging.Handler):
                self.add_handler(handler, name)
            elif isinstance(handler, str):
                self.add_file_handler(handler, name)
        if stream_handler:
            self.add_stream_handler(name)

    def _logger(self, logger: str) -> logging.Logger:
        found = self.loggers.get(logger)
        if found is None:
            raise ConfigError(
                f"TextFileLogger: no logger named {logger!r}; add it with add_logger({logger!r}) "
                f"(known: {', '.join(self.loggers)})"
            )
        return found

    def add_handler(self, handler: logging.Handler, logger: str = "default") -> None:
        """Add a ``logging`` handler to the logger ``logger``."""
        self._logger(logger).addHandler(handler)

    def add_file_handler(self, name: str, logger: str = "default") -> None:
        """Make the logger ``logger`` also write to ``<base_dir>/<name>.log``."""
        if self.base_dir is None:
            raise ConfigError(f"TextFileLogger(base_dir=None) has no folder for the log file {name!r}.log")
        self.add_handler(_TextLogHandler(self, name), logger)

    def add_stream_handler(self, logger: str = "default") -> None:
        """Make the logger ``logger`` also print to the logging stream (the message only)."""
        handler = logging.StreamHandler(self.logging_stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.add_handler(handler, logger)

    def print(self, *args: Any, logger: str = "default") -> None:
        """Log the objects joined by spaces, at level info."""
        self.log(" ".join(map(str, args)), logger)

    def log(self, msg: Any, logger: str = "default") -> None:
        """Log ``msg`` at level info."""
        self._logger(logger).info(msg)

    def info(self, msg: Any, logger: str = "default") -> None:
        """Log ``msg`` at level info."""
        self._logger(logger).info(msg)

    def debug(self, msg: Any, logger: str = "default") -> None:
        """Log ``msg`` at level debug."""
        self._logger(logger).debug(msg)

    def error(self, msg: Any, logger: str = "default") -> None:
        """Log ``msg`` at level error."""
        self._logger(logger).error(msg)

    def log_to(self, msg: Any, name: str, log_to_default: bool = False) -> None:
        """Log ``msg`` to the logger ``name`` (added with its own file if new), and to ``default`` too."""
        if name not in self.loggers:
            self.add_logger(name, file_handler=self.base_dir is not None)
        self.log(msg, name)
        if log_to_default:
            self.log(msg, "default")

    def show_text(self, text: Any, name: Any = None, logger: str = "default", **kwargs: Any) -> None:  # type: ignore[override]
        """Log ``name: text`` (or ``text``)."""
        self.log(f"{name}: {text}" if name is not None else text, logger)

    def show_value(self, value: Any, name: Any = None, logger: str = "default", **kwargs: Any) -> None:  # type: ignore[override]
        """Log ``name: value`` (or ``value``)."""
        self.log(f"{name}: {value}" if name is not None else value, logger)

    def close(self) -> dict[str, Any]:
        """Detach the handlers of this logger's python loggers and close the log files."""
        for logger in self.loggers.values():
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
        return super().close()


class _NoFiles:
    """The trialog logger of a TextFileLogger without base_dir: it writes nothing."""

    @hookimpl
    def close(self) -> None:
        return None


__all__ = ["TextFileLogger"]
