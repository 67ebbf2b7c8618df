"""The ``torch`` checkpoint format (``trialog.checkpoints`` entry point) for the core's CheckpointManager.

The manager owns the files (temporary name, fsync, atomic rename, retention, manifest); this format only
turns state into bytes at the path it is given and back. Loading uses ``torch.load(weights_only=True)``
unless the caller explicitly asks otherwise, so opening a checkpoint never runs code from the file.
"""

from __future__ import annotations

import errno
import os
import pickle
import re
import sys
import zipfile
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import torch

from trialog.api import WritebackFile
from trialog.errors import CheckpointError, DiskFullError

from .utils import BufferPool, decode_numpy, encode_numpy, snapshot_to_cpu

MapLocation: TypeAlias = str | torch.device | Mapping[str, str] | Callable[..., Any] | None


class TorchFormat:
    """State via ``torch.save``; tensors, state dicts, optimizer state, numbers, strings, numpy arrays.

    Args:
        weights_only: load with ``torch.load(weights_only=True)`` (the default), and refuse to save values
            that such loading could not read back. ``False`` saves and unpickles arbitrary objects, and
            so runs code from the file when loading: use it only for files you trust.
        map_location: where tensors land when loading (``"cpu"``, ``"cuda:0"``, a dict or a function,
            as in ``torch.load``). ``None`` keeps the saved devices, falling back to the CPU on a
            machine without CUDA so GPU checkpoints open anywhere.
        pin_memory: snapshot device tensors into pinned host buffers (faster, non-blocking copies).
    """

    name = "torch"
    extension = ".pt"

    def __init__(
        self, *, weights_only: bool = True, map_location: MapLocation = None, pin_memory: bool = True
    ) -> None:
        self.weights_only = weights_only
        self.map_location = map_location
        self.pin_memory = pin_memory
        self._pool = BufferPool()

    def snapshot(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``state`` in host memory that the caller may keep mutating the original of.

        The copy's tensors are buffers recycled once :meth:`save` has written them (the checkpoint
        manager's asynchronous mode snapshots, saves, and drops the snapshot): do not keep a snapshot you
        passed to ``save``.
        """
        # Encoding first checks every value here, in the caller, and lets numpy arrays share the pooled copy.
        return snapshot_to_cpu(
            encode_numpy(dict(state), strict=self.weights_only), pin_memory=self.pin_memory, pool=self._pool
        )

    def save(self, state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
        """Write ``state`` to ``path``."""
        with open(path, "wb", buffering=0) as raw:
            self.save_file(state, WritebackFile(raw), name=os.fspath(path))

    def save_file(self, state: Mapping[str, Any], file: Any, *, name: str | None = None) -> None:
        """Write ``state`` to the open binary ``file`` (the manager's hashing WritebackFile)."""
        name = name or str(getattr(getattr(file, "raw", file), "name", "<file>"))
        try:
            torch.save(encode_numpy(dict(state), strict=self.weights_only), file)
        except CheckpointError:
            raise
        except (pickle.PicklingError, TypeError, AttributeError, RuntimeError, OSError) as err:
            # torch turns a failed write into "[enforce fail at inline_container.cc] unexpected pos";
            # the file object kept the OSError it really was.
            hidden = getattr(file, "error", None)
            if isinstance(hidden, OSError) and hidden.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(errno.ENOSPC, f"no space left on device writing {name}", name) from hidden
            if isinstance(err, OSError):
                raise
            raise CheckpointError(
                f"cannot write torch checkpoint {name}: {err}; store state dicts, tensors, numbers, "
                "strings and numpy arrays rather than arbitrary objects"
            ) from err
        finally:
            self._pool.give_back(state)

    def load(
        self,
        path: str | os.PathLike[str],
        *,
        weights_only: bool | None = None,
        map_location: MapLocation = None,
        mmap: bool | None = None,
    ) -> dict[str, Any]:
        """Read a checkpoint written by :meth:`save` (or any ``torch.save`` file holding a dict).

        ``weights_only=False`` is unsafe: it lets the file run arbitrary code; pass it only for files you trust.
        ``mmap`` (default: on, except on Windows, where a mapped file could not be deleted by retention)
        maps the file instead of reading it: tensors are private copy-on-write pages that fill when
        first used, which saves a copy and the memory for it when they go straight into a model. Files
        in torch's legacy (pre-1.6) format are read without it.
        """
        path = os.fspath(path)
        weights_only = self.weights_only if weights_only is None else weights_only
        location = map_location if map_location is not None else self.map_location
        if location is None and not torch.cuda.is_available():
            location = "cpu"
        if not os.path.isfile(path):
            raise CheckpointError(f"checkpoint file {path} does not exist")
        use_mmap = (sys.platform != "win32") if mmap is None else mmap
        try:
            try:
                state = torch.load(path, map_location=location, weights_only=weights_only, mmap=use_mmap)
            except RuntimeError as err:
                if not (use_mmap and mmap is None and "mmap" in str(err)):
                    raise
                state = torch.load(path, map_location=location, weights_only=weights_only)
        except pickle.UnpicklingError as err:
            if weights_only:
                found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
                what = f"an object of type {found.group(1)}" if found else "pickled Python objects"
                raise CheckpointError(
                    f"checkpoint {path} holds {what}, which loading with weights_only=True refuses. "
                    "Load it with weights_only=False only if you trust the file: unpickling can run arbitrary code"
                ) from err
            raise CheckpointError(f"checkpoint {path} cannot be unpickled: {err}") from err
        except (RuntimeError, zipfile.BadZipFile, EOFError, OSError) as err:
            raise CheckpointError(
                f"checkpoint {path} is not a readable torch checkpoint (truncated or corrupt?): {err}"
            ) from err
        if not isinstance(state, Mapping):
            raise CheckpointError(
                f"checkpoint {path} holds a {type(state).__name__}, not a dict of named state; "
                "save through TorchFormat/CheckpointManager or torch.save a dict"
            )
        return decode_numpy(state)
