"""Atomic, durable file writes, the one JSON reader and the one JSON encoder policy of trialog.

Everything trialog writes whole (``run.json``, ``results.json``, the checkpoint manifest, configs) goes
through :func:`write_atomic`: a temporary file in the same folder, fsynced, renamed over the target with
``os.replace``, then the folder fsynced, so a reader sees the old or the new file and the new name survives
a power loss. A full disk is reported as :class:`~trialog.errors.DiskFullError` naming the file.

Everything trialog reads as JSON goes through :func:`read_json`: any corruption (truncated text, binary
junk, the wrong top-level type) is a named error that says which file, never a bare ``UnicodeDecodeError``.

The encoder policy (:func:`json_default`, :func:`dumps`): numpy scalars and arrays become numbers and lists,
paths become strings, anything else is a ``TypeError`` naming the key that holds it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError, CorruptFileError, DiskFullError, RunFolderError

__all__ = [
    "check_inside",
    "disk_full_error",
    "dumps",
    "fsync_dir",
    "inside",
    "is_disk_full",
    "json_default",
    "read_json",
    "write_atomic",
    "write_json",
]


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is an ``OSError`` saying the disk is full."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def disk_full_error(
    path: str | os.PathLike[str], exc: BaseException | None = None, kind: type[DiskFullError] = DiskFullError
) -> DiskFullError:
    """The error every write path raises when the disk is full: "no space left on device writing PATH"."""
    err = kind(errno.ENOSPC, f"no space left on device writing {os.fspath(path)}", os.fspath(path))
    if exc is not None:
        err.__cause__ = exc
    return err


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Make a rename or creation inside ``directory`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new file next to ``path`` (O_EXCL), without tempfile: importing this stays light.

    Created with mode 0666 less the umask, as ``open()`` creates a file: the renamed file is as readable as
    any other file of the run (tempfile's 0600 made run.json owner-only under umask 022).
    """
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666
            ), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


def write_atomic(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a part of one.

    ``durable=False`` skips the two fsyncs, for derived files that are rewritten often (a plot redrawn
    every few seconds): still never half-written, but a power loss may bring the previous version back.

    The temporary file lives in the same folder (``os.replace`` is atomic only within one file system) and is
    fsynced before the rename; the folder is fsynced after it. A full disk leaves the old file in place and
    raises :class:`~trialog.errors.DiskFullError`.
    """
    path = Path(path)
    try:
        fd, tmp = _temporary_beside(path)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(path, exc) from exc
        raise
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if is_disk_full(exc):
            raise disk_full_error(path, exc) from exc
        raise
    if durable:
        fsync_dir(path.parent)


def json_default(obj: Any) -> Any:
    """The encoder policy: numpy (and torch) scalars/arrays to numbers/lists, paths to str, else TypeError."""
    tolist = getattr(obj, "tolist", None)
    if tolist is not None and callable(tolist):
        return tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__module__}.{type(obj).__qualname__} is not JSON serializable")


def _find_unserializable(value: Any, where: str) -> tuple[str, Any] | None:
    if isinstance(value, Mapping):
        items = [(f"{where}.{key}" if where else str(key), item) for key, item in value.items()]
    elif isinstance(value, (list, tuple)):
        items = [(f"{where}[{i}]", item) for i, item in enumerate(value)]
    else:
        if value is not None and not isinstance(value, (str, int, float, bool)):
            try:
                json_default(value)
            except TypeError:
                return where or "<top level>", value
        return None
    for inner, item in items:
        found = _find_unserializable(item, inner)
        if found is not None:
            return found
    return None


def dumps(
    data: Any,
    *,
    indent: int | None = None,
    sort_keys: bool = False,
    fallback: Callable[[Any], Any] | None = None,
    ensure_ascii: bool = True,
) -> str:
    """``json.dumps`` with :func:`json_default`; a value it cannot store is a TypeError naming its key.

    ``fallback`` (e.g. ``str``) stores such a value instead of refusing it.
    """
    encode = json_default if fallback is None else _with_fallback(fallback)
    try:
        return json.dumps(data, indent=indent, sort_keys=sort_keys, default=encode, ensure_ascii=ensure_ascii)
    except TypeError as exc:
        found = _find_unserializable(data, "")
        if found is None:
            raise
        key, value = found
        raise TypeError(
            f"{key!r}: a {type(value).__module__}.{type(value).__qualname__} cannot be stored as JSON; "
            "store numbers, strings, bools, None, lists, dicts, numpy values or paths"
        ) from exc


def _with_fallback(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def encode(obj: Any) -> Any:
        try:
            return json_default(obj)
        except TypeError:
            return fallback(obj)

    return encode


def write_json(
    path: str | os.PathLike[str],
    data: Any,
    *,
    indent: int | None = 2,
    durable: bool = True,
    fallback: Callable[[Any], Any] | None = None,
) -> None:
    """The one JSON writer: ``data`` (UTF-8, the encoder policy of :func:`dumps`) to ``path`` atomically.

    ``durable=False`` skips the fsyncs (a cache rewritten often; see :func:`write_atomic`); ``fallback``
    as :func:`dumps`.
    """
    text = dumps(data, indent=indent, fallback=fallback, ensure_ascii=False)
    write_atomic(path, (text + "\n").encode("utf-8"), durable=durable)


def read_json(
    path: str | os.PathLike[str],
    *,
    expect: type | tuple[type, ...] | None = dict,
    error: type[Exception] = CorruptFileError,
    what: str = "",
) -> Any:
    """Read the JSON file ``path``; any corruption is ``error`` (a named trialog error) naming the file.

    ``expect``: the type(s) the top level must have (default: an object). ``what`` is a short description
    for the message ("the checkpoint manifest"). A missing file is ``FileNotFoundError`` as it is, so a
    caller can tell absent from corrupt.
    """
    file = Path(path)
    label = f"{what} {file}" if what else str(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise error(f"{label} is a folder, not a JSON file") from None
    except OSError as exc:
        raise error(f"cannot read {label}: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise error(f"{label} is empty (a write was cut short?); restore it or remove it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{label} is corrupt: byte {exc.start} is not UTF-8 text (binary junk in a JSON file)"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); it is "
            "truncated or corrupt"
        ) from None
    except RecursionError:
        raise error(f"{label} is nested too deeply to be a trialog file") from None
    if expect is not None and not isinstance(data, expect):
        names = " or ".join(t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,)))
        kind = {"dict": "a JSON object", "list": "a JSON array"}.get(names, names)
        raise error(f"{label} does not hold {kind} at top level (found {type(data).__name__})")
    return data


def check_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """``path`` if it (after resolving symlinks) lies inside ``root``; else a RunFolderError naming the link.

    trialog never follows a symlink out of a run folder, neither to read nor to write.
    """
    path = Path(path)
    if _no_link_below(Path(root), path):
        return path  # the common case, without resolving every folder above the run
    root_real = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real == root_real or root_real in real.parents:
        return path
    link = _outermost_link(Path(root), path)
    where = f"{link} is a symbolic link to {os.readlink(link)}" if link is not None else f"{path} resolves"
    raise RunFolderError(
        f"{where}, outside the run folder {root}; trialog does not follow links out of a run folder "
        f"({path} -> {real}). Replace the link with a real file or folder"
    )


def inside(folder: str | os.PathLike[str], relative: str | os.PathLike[str], what: str = "path") -> Path:
    """``folder / relative``; a ConfigError naming ``relative`` when it would leave ``folder`` (``..``, absolute).

    The one name guard of every ``save_*``/``load_*`` that takes a name inside a run folder's sub-folder,
    checked before anything is written or read.
    """
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts or str(relative) in ("", "."):
        raise ConfigError(
            f"{what} {str(relative)!r} must be a relative path inside {str(folder)!r} (no '..', not absolute)"
        )
    return Path(folder) / rel


def _no_link_below(root: Path, path: Path) -> bool:
    """Whether ``path`` lies below ``root`` through plain names, none of them a symlink (missing ones count as
    plain: they resolve to where they are)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    current = root
    for part in rel.parts:
        if part in ("..", "."):
            return False
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return False
        except FileNotFoundError:
            return True
        except OSError:
            return False
    return True


def _outermost_link(root: Path, path: Path) -> Path | None:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path if path.is_symlink() else None
    current = root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return current
    return None
