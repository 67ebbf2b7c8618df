"""Torch helpers: device choice, moving and snapshotting nested state, numpy-safe encoding, partial loading."""

from __future__ import annotations

import copy
import fnmatch
import math
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from trialog.errors import CheckpointError, ConfigError, TrialogWarning

_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), torch.dtype, torch.device, torch.Size)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` into a device.

    Raises ConfigError naming the device when it does not exist on this machine.
    """
    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ConfigError(
            f"device {device!r} is not a device name; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from err
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {device!r} asks for CUDA but torch.cuda.is_available() is False here; "
                "use device='auto' or 'cpu'"
            )
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise ConfigError(
                f"device {device!r} does not exist: this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1})"
            )
    return resolved


def map_structure(obj: Any, leaf: Callable[[Any], Any]) -> Any:
    """Rebuild dicts, lists and tuples around ``obj``, applying ``leaf`` to every other value."""
    if isinstance(obj, Mapping):
        items = [(key, map_structure(value, leaf)) for key, value in obj.items()]
        return OrderedDict(items) if isinstance(obj, OrderedDict) else dict(items)
    if isinstance(obj, list):
        return [map_structure(value, leaf) for value in obj]
    if isinstance(obj, tuple):
        values = [map_structure(value, leaf) for value in obj]
        return type(obj)(*values) if hasattr(obj, "_fields") else tuple(values)
    return leaf(obj)


def move_to_device(obj: Any, device: str | torch.device, non_blocking: bool = False) -> Any:
    """Nested structure with every tensor moved to ``device`` (other values kept as they are)."""
    device = torch.device(device)

    def leaf(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return value.to(device, non_blocking=non_blocking)
        return value

    return map_structure(obj, leaf)


class BufferPool:
    """Host buffers reused from one snapshot to the next.

    A fresh 300 MB allocation costs page faults (and, pinned, a slow registration with the driver) on
    every checkpoint; copying into the buffers of the previous, already written snapshot does not.
    :meth:`take` lends a buffer; :meth:`give_back` returns the lent tensors found in a snapshot that is
    on disk. The pool tracks lent tensors by weak reference only: a snapshot dropped without being
    saved frees its memory as usual, and nothing but the very tensors it lent can come back. Free
    buffers a snapshot did not need are dropped, so the pool holds about one snapshot.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # weakref callbacks may run inside a locked section (GC)
        self._free: dict[tuple[torch.dtype, int, bool], list[torch.Tensor]] = {}
        self._lent: dict[int, weakref.ref[torch.Tensor]] = {}

    def take(self, shape: torch.Size, dtype: torch.dtype, pinned: bool) -> torch.Tensor:
        """A contiguous host tensor of ``shape`` and ``dtype`` (pinned when asked) with unspecified content."""
        numel = math.prod(shape)
        with self._lock:
            stack = self._free.get((dtype, numel, pinned))
            buffer = stack.pop() if stack else None
        if buffer is None:
            buffer = torch.empty(numel, dtype=dtype, device="cpu", pin_memory=pinned)
        tensor = buffer.view(shape)
        key = id(tensor)

        def forget(_: Any, key: int = key) -> None:
            self._forget(key)

        with self._lock:
            self._lent[key] = weakref.ref(tensor, forget)
        return tensor

    def _forget(self, key: int) -> None:
        with self._lock:
            ref = self._lent.get(key)
            if ref is not None and ref() is None:
                del self._lent[key]

    def end_snapshot(self) -> None:
        """Drop the free buffers the snapshot just taken did not need (the state shrank or changed)."""
        with self._lock:
            self._free = {}

    def give_back(self, obj: Any) -> None:
        """Return the lent tensors found in ``obj`` (a snapshot that is written and no longer read)."""
        found: list[torch.Tensor] = []
        map_structure(obj, lambda v: found.append(v) if isinstance(v, torch.Tensor) else None)
        with self._lock:
            for tensor in found:
                ref = self._lent.get(id(tensor))
                held = ref() if ref is not None else None
                if held is not None and held is tensor:
                    del self._lent[id(tensor)]
                    key = (tensor.dtype, tensor.numel(), tensor.is_pinned())
                    self._free.setdefault(key, []).append(tensor.view(-1))


def snapshot_to_cpu(obj: Any, pin_memory: bool = True, pool: BufferPool | None = None) -> Any:
    """An independent copy of nested state with every tensor in host memory.

    Training may go on mutating the originals in place while a background thread writes the copy.
    Device tensors go into pinned buffers with non-blocking copies and one synchronisation at the end,
    so a GPU snapshot costs about one device-to-host transfer. With a ``pool`` the copies land in
    buffers of an earlier snapshot (see :class:`BufferPool`).
    """
    pending_cuda = False

    def leaf(value: Any) -> Any:
        nonlocal pending_cuda
        if isinstance(value, torch.Tensor):
            value = value.detach()
            on_cpu = value.device.type == "cpu"
            pin = pin_memory and value.device.type == "cuda"
            if pool is None:
                host = torch.empty(value.shape, dtype=value.dtype, device="cpu", pin_memory=pin)
            else:
                host = pool.take(value.shape, value.dtype, pin)
            if on_cpu and value.dtype in _NUMPY_COPYABLE and not value.is_conj() and not value.is_neg():
                # numpy's copy is a plain memcpy for contiguous data: about twice torch's copy_ on a CPU.
                np.copyto(host.numpy(), value.resolve_conj().numpy())
            else:
                host.copy_(value, non_blocking=pin)
            pending_cuda = pending_cuda or pin
            return host
        if isinstance(value, np.ndarray):
            return value.copy()
        if isinstance(value, _IMMUTABLE):
            return value
        return copy.deepcopy(value)

    snapshot = map_structure(obj, leaf)
    if pool is not None:
        pool.end_snapshot()
    if pending_cuda:
        torch.cuda.synchronize()
    return snapshot


_NUMPY_COPYABLE = frozenset(
    {torch.float64, torch.float32, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8,
     torch.uint8, torch.bool, torch.complex64, torch.complex128}
)  # fmt: skip


# numpy values are stored as uint8 tensors with their dtype and shape, so a checkpoint stays loadable
# with torch.load(weights_only=True), which refuses numpy's pickled reconstructors.
_NUMPY_TAG = "__trialog_numpy__"


#: Leaves ``torch.load(weights_only=True)`` reads back (numpy values are encoded into tensors first).
_STORABLE = (torch.Tensor, *_IMMUTABLE)


def encode_numpy(obj: Any, where: str = "state", strict: bool = True) -> Any:
    """Replace numpy arrays and scalars in nested state by tagged dicts of plain tensors.

    ``strict``: raise CheckpointError naming the key of any value that loading with ``weights_only=True``
    would refuse (arbitrary objects, namedtuples), so it fails when saved rather than when resumed.
    Without it such values are left for pickle (and need ``weights_only=False`` to load).
    """
    if isinstance(obj, Mapping):
        items = [(key, encode_numpy(value, f"{where}[{key!r}]", strict)) for key, value in obj.items()]
        return OrderedDict(items) if isinstance(obj, OrderedDict) else dict(items)
    if isinstance(obj, list):
        return [encode_numpy(value, f"{where}[{i}]", strict) for i, value in enumerate(obj)]
    if isinstance(obj, tuple) and (not strict or not hasattr(obj, "_fields")):
        if hasattr(obj, "_fields"):
            return type(obj)(*(encode_numpy(value, f"{where}[{i}]", strict) for i, value in enumerate(obj)))
        return tuple(encode_numpy(value, f"{where}[{i}]", strict) for i, value in enumerate(obj))
    if isinstance(obj, (set, frozenset)):
        return type(obj)(encode_numpy(value, where, strict) for value in obj)
    if isinstance(obj, (np.ndarray, np.generic)):
        kind = "scalar" if isinstance(obj, np.generic) else "ndarray"
        array = np.asarray(obj)
        if not array.flags.c_contiguous:  # ascontiguousarray alone would turn a 0-d array into 1-d
            array = np.ascontiguousarray(array).reshape(array.shape)
        if array.dtype.hasobject:
            if not strict:
                return obj
            raise CheckpointError(
                f"{where} is a numpy array of Python objects, which the torch format cannot store "
                "without pickle; convert it to a numeric array or a list"
            )
        raw = array.reshape(-1).view(np.uint8) if array.size else np.zeros(0, np.uint8)
        return {
            _NUMPY_TAG: kind,
            "dtype": np.lib.format.dtype_to_descr(array.dtype),
            "shape": list(array.shape),
            "data": torch.from_numpy(raw),
        }
    if strict and not isinstance(obj, _STORABLE):
        raise CheckpointError(
            f"{where} is a {type(obj).__module__}.{type(obj).__qualname__}, which a torch checkpoint could store "
            "only pickled and loading with weights_only=True would refuse; store its state_dict() or plain "
            "values (tensors, numpy arrays, numbers, strings, lists, tuples, dicts) instead, or use "
            "TorchFormat(weights_only=False) if you mean to pickle it (unsafe to load from untrusted files)"
        )
    return obj


def decode_numpy(obj: Any) -> Any:
    """Inverse of :func:`encode_numpy`."""
    if isinstance(obj, Mapping):
        if _NUMPY_TAG in obj and set(obj) == {_NUMPY_TAG, "dtype", "shape", "data"}:
            dtype = np.lib.format.descr_to_dtype(obj["dtype"])
            raw = obj["data"].numpy()
            array = raw.view(dtype).reshape(obj["shape"]) if raw.size else np.zeros(obj["shape"], dtype)
            return array[()] if obj[_NUMPY_TAG] == "scalar" else array
        items = [(key, decode_numpy(value)) for key, value in obj.items()]
        return OrderedDict(items) if isinstance(obj, OrderedDict) else dict(items)
    if isinstance(obj, list):
        return [decode_numpy(value) for value in obj]
    if isinstance(obj, tuple):
        values = [decode_numpy(value) for value in obj]
        return type(obj)(*values) if hasattr(obj, "_fields") else tuple(values)
    return obj


@dataclass
class LoadReport:
    """What :func:`update_model` did with a state dict."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every parameter and buffer of the model was loaded and nothing was left over."""
        return not (self.missing or self.unexpected or self.mismatched or self.excluded)

    def problems(self, name: str = "model") -> list[str]:
        """One readable line per kind of mismatch."""
        lines = []
        if self.missing:
            lines.append(
                f"{name}: keys missing from the checkpoint, left as initialised: {_names(self.missing)}"
            )
        if self.unexpected:
            lines.append(
                f"{name}: checkpoint keys the model does not have, ignored: {_names(self.unexpected)}"
            )
        if self.mismatched:
            shapes = [f"{k} (checkpoint {list(a)} vs model {list(b)})" for k, a, b in self.mismatched]
            lines.append(f"{name}: shape mismatches, not loaded: {_names(shapes)}")
        return lines


def _names(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} ... and {len(names) - limit} more"


def _is_excluded(key: str, patterns: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + ".") or fnmatch.fnmatchcase(key, p) for p in patterns)


def update_model(
    model: torch.nn.Module,
    state_dict: Mapping[str, Any],
    exclude_layers: Iterable[str] = (),
    strict: bool = False,
    warn: bool = True,
    name: str = "model",
) -> LoadReport:
    """Load the matching part of ``state_dict`` into ``model`` (trixi's ``update_model``, more careful).

    ``exclude_layers`` are names, prefixes (``"fc"`` skips ``fc.weight`` and ``fc.bias``) or glob patterns.
    Missing keys keep their initial values, unexpected keys and shape mismatches are skipped; each kind
    is reported in one TrialogWarning that names the keys, or raised as CheckpointError when ``strict``.
    """
    patterns = [exclude_layers] if isinstance(exclude_layers, str) else list(exclude_layers)
    current = model.state_dict()
    report = LoadReport()
    accepted: dict[str, Any] = {}
    for key, value in state_dict.items():
        if _is_excluded(key, patterns):
            report.excluded.append(key)
        elif key not in current:
            report.unexpected.append(key)
        elif isinstance(value, torch.Tensor) and tuple(value.shape) != tuple(current[key].shape):
            report.mismatched.append((key, tuple(value.shape), tuple(current[key].shape)))
        else:
            accepted[key] = value
    skipped = set(report.excluded) | {k for k, _, _ in report.mismatched}
    report.missing = [
        k for k in current if k not in accepted and k not in skipped and not _is_excluded(k, patterns)
    ]
    report.loaded = list(accepted)
    problems = report.problems(name)
    if strict and problems:
        raise CheckpointError(
            "; ".join(problems) + " (pass strict=False to load the matching part, or exclude_layers=...)"
        )
    model.load_state_dict(accepted, strict=False)
    if warn:
        for line in problems:
            warnings.warn(line, TrialogWarning, stacklevel=2)
    return report


def name_and_iter_to_filename(
    name: str, n_iter: int | None, ending: str = "", iter_format: str = "{:05d}", prefix: bool = False
) -> str:
    """trixi's checkpoint naming: ``name_00012.pt``, or ``00012_name.pt`` with ``prefix``."""
    if n_iter is None:
        return name + ending
    iter_str = iter_format.format(n_iter)
    return f"{iter_str}_{name}{ending}" if prefix else f"{name}_{iter_str}{ending}"
