"""trixi's file API on a run folder: the one implementation behind ``exp.save_dict`` ... and ``exp.elog.save_*``.

Every name first goes through the core's one name guard (:func:`trialog.api.fileio.inside`): a name that
leaves its folder (``"../x"``, an absolute path) is a :class:`~trialog.errors.ConfigError` naming it, before
anything is written or read. JSON files are written atomically; ``.npy`` files never unpickle.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from trialog.api import fileio


def with_suffix(name: str, suffix: str) -> str:
    """``name`` ending in ``suffix`` (added when it is not there yet)."""
    return name if name.endswith(suffix) else name + suffix


def target(folder: str | os.PathLike[str], name: str, suffix: str = "", *, create: bool = False) -> Path:
    """``folder/name[suffix]`` through the name guard; ``create``: its parent folder is made."""
    path = fileio.inside(folder, with_suffix(name, suffix) if suffix else name, "path")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_json(folder: str | os.PathLike[str], data: Any, name: str) -> Path:
    """``data`` as ``folder/<name>.json`` (numpy values become lists), atomically."""
    path = target(folder, name, ".json", create=True)
    fileio.write_json(path, data)
    return path


def load_json(folder: str | os.PathLike[str], name: str) -> Any:
    """``folder/<name>.json``, read by the core's one JSON reader (any corruption a named error)."""
    return fileio.read_json(target(folder, name, ".json"), expect=None)


def save_numpy(folder: str | os.PathLike[str], data: Any, name: str) -> Path:
    """An array as ``folder/<name>.npy``."""
    import numpy as np

    path = target(folder, name, ".npy", create=True)
    np.save(path, data, allow_pickle=False)
    return path


def load_numpy(folder: str | os.PathLike[str], name: str) -> Any:
    """``folder/<name>.npy`` (never unpickles)."""
    import numpy as np

    return np.load(target(folder, name, ".npy"), allow_pickle=False)


def save_pickle(folder: str | os.PathLike[str], data: Any, name: str) -> Path:
    """``data`` pickled to ``folder/<name>``."""
    path = target(folder, name, create=True)
    with open(path, "wb") as fh:
        pickle.dump(data, fh)
    return path


def load_pickle(folder: str | os.PathLike[str], name: str) -> Any:
    """Unpickle ``folder/<name>``: unsafe for files you did not write yourself (unpickling runs code)."""
    with open(target(folder, name), "rb") as fh:
        return pickle.load(fh)


def save_file(
    folder: str | os.PathLike[str], filepath: str | os.PathLike[str], name: str | None = None
) -> Path:
    """Copy the file ``filepath`` into ``folder`` (or ``folder/<name>/``)."""
    into = Path(folder) if name is None else target(folder, name)
    into.mkdir(parents=True, exist_ok=True)
    copied = into / Path(filepath).name
    shutil.copy2(filepath, copied)
    return copied


__all__ = [
    "load_json",
    "load_numpy",
    "load_pickle",
    "save_file",
    "save_json",
    "save_numpy",
    "save_pickle",
    "target",
    "with_suffix",
]
