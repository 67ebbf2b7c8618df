"""The ``npz`` checkpoint format (the core's built-in ``trialog.checkpoints`` entry point): no pickle."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from trialog.checkpoint.snapshot import copyto as _copyto
from trialog.checkpoint.writeback import WritebackFile, on_helper
from trialog.errors import CheckpointError

__all__ = ["NpzFormat"]

_TREE_MEMBER = "__trialog_tree__"
_MARKERS = ("__ndarray__", "__scalar__", "__tuple__", "__bytes__", "__items__")


class NpzFormat:
    """Nested dicts/lists/tuples of numpy arrays and JSON values (numbers, strings, bools, None) in a ``.npz``.

    Arrays are stored as npz members, everything else as a JSON tree in one more member; no pickle is
    written or read. Tuples, bytes, numpy scalars and dicts with non-string keys survive the round trip;
    objects with ``__array__`` (a CPU torch tensor) are stored as numpy arrays. The files are plain
    uncompressed npz archives (``np.load`` reads them); they are written and read without the intermediate
    copies ``np.savez``/``np.load`` make, so the fsync a crash-safe save needs costs no time overall.
    """

    extension = ".npz"
    name = "npz"

    def save(self, state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
        with open(path, "wb", buffering=0) as raw:
            _save_to(state, WritebackFile(raw))

    def save_file(self, state: Mapping[str, Any], file: Any) -> None:
        """Write ``state`` to the open binary ``file`` (the manager's hashing WritebackFile)."""
        _save_to(state, file)

    def load(self, path: str | os.PathLike[str], *, keys: list[str] | None = None) -> dict[str, Any]:
        """Read a checkpoint; ``keys`` limits it to those top-level names."""
        import numpy as np

        with _NpzReader(path, np) as npz:
            if _TREE_MEMBER not in npz.members:
                raise CheckpointError(
                    f"{path} is an npz file but not a trialog checkpoint (no {_TREE_MEMBER})"
                )
            tree = json.loads(npz.read(_TREE_MEMBER, check_now=True).tobytes())
            if keys is not None:
                missing = [k for k in keys if k not in tree]
                if missing:
                    raise CheckpointError(f"checkpoint {path} has no {missing}; it has {sorted(tree)}")
                tree = {k: tree[k] for k in keys}
            state = _decode(tree, npz, np)
            npz.check()  # every member's CRC, computed on a helper thread while the next one was read
            return state

    def snapshot(self, state: Mapping[str, Any], *, into: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A copy of ``state``; ``into`` is an earlier snapshot (no longer used) whose arrays may be reused."""
        import numpy as np

        return _copy(state, "", np, into)


def _save_to(state: Mapping[str, Any], file: Any) -> None:
    import numpy as np

    arrays: dict[str, Any] = {}
    tree = _encode(state, "", arrays, np)
    arrays[_TREE_MEMBER] = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
    _write_npz(file, arrays, np)


def _write_npz(f: Any, arrays: Mapping[str, Any], np: Any) -> None:
    """An uncompressed zip64 npz, each array's memory written as it is (np.savez copies it first).

    The members' CRC-32s are computed on a helper thread, in order, while the caller's thread writes
    (``zlib.crc32`` and ``write`` both release the GIL): the CRC pass ``zipfile`` would make on the caller's
    thread is hidden behind the disk writes. Each CRC goes into the data descriptor after its member, the
    way ``zipfile`` writes to a stream; ``np.load`` and ``zipfile`` read the result like any npz.
    """
    import struct
    import time
    import zlib

    fmt = np.lib.format
    members = []
    for key, arr in arrays.items():
        if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
            arr = np.ascontiguousarray(arr)
        header = _npy_header(fmt, arr)
        memory = (arr if arr.flags.c_contiguous else arr.T).reshape(-1).view(np.uint8) if arr.size else b""
        members.append((f"{key}.npy".encode(), header, memory))

    def crc_of(header: bytes, memory: Any) -> int:
        return zlib.crc32(memory, zlib.crc32(header))

    crcs = [on_helper("crc", crc_of, header, memory) for _, header, memory in members]
    now = time.localtime()
    dos_time = now.tm_hour << 11 | now.tm_min << 5 | now.tm_sec // 2
    dos_date = max(now.tm_year - 1980, 0) << 9 | now.tm_mon << 5 | now.tm_mday
    offset = 0
    central: list[tuple[bytes, int, int, int]] = []
    try:
        for (name, header, memory), crc in zip(members, crcs):
            size = len(header) + len(memory)
            # local header: version 4.5 (zip64), flag 0x08 (sizes and CRC in the data descriptor), stored
            local = struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 45, 0x08, 0, dos_time, dos_date, 0, _MAX32, _MAX32, len(name), 20
            )
            f.write(local + name + struct.pack("<HHQQ", 1, 16, 0, 0) + header)
            if len(memory):
                f.write(memory)
            value = crc.result()
            f.write(struct.pack("<IIQQ", 0x08074B50, value, size, size))
            central.append((name, value, size, offset))
            offset += len(local) + len(name) + 20 + size + 24
    finally:
        for crc in crcs:
            crc.cancel()
    start = offset
    directory = bytearray()
    for name, value, size, at in central:
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0x08, 0, dos_time, dos_date, value, _MAX32, _MAX32,
            len(name), 28, 0, 0, 0, 0o600 << 16, _MAX32,
        )  # fmt: skip
        directory += name + struct.pack("<HHQQQ", 1, 24, size, size, at)
    end = start + len(directory)
    count = len(central)
    directory += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(directory), start)
    directory += struct.pack("<IIQI", 0x07064B50, 0, end, 1)
    directory += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), _MAX32, _MAX32, 0
    )
    f.write(bytes(directory))


_MAX32 = 0xFFFFFFFF


def _npy_header(fmt: Any, arr: Any) -> bytes:
    import io

    out = io.BytesIO()
    header = fmt.header_data_from_array_1_0(arr)
    try:
        fmt.write_array_header_1_0(out, header)
    except ValueError:  # a header over 64 KiB (huge structured dtypes) needs format 2.0
        out = io.BytesIO()
        fmt.write_array_header_2_0(out, header)
    return out.getvalue()


class _NpzReader:
    """Reads members of an npz lazily, straight into the result arrays, checking each member's CRC.

    Members that are compressed (an npz not written by trialog) go through ``np.load``; pickled
    (object) arrays are refused either way.
    """

    def __init__(self, path: str | os.PathLike[str], np: Any) -> None:
        import zipfile

        self.path = path
        self.np = np
        self.file = open(path, "rb")
        try:
            self.zip = zipfile.ZipFile(self.file)
        except zipfile.BadZipFile as e:
            self.file.close()
            raise CheckpointError(
                f"{path} is not a complete npz archive ({e}); it is truncated or corrupt"
            ) from None
        except BaseException:
            self.file.close()
            raise
        self.members = {
            info.filename[:-4]: info for info in self.zip.infolist() if info.filename.endswith(".npy")
        }
        self.pending: list[tuple[str, int, Any]] = []

    def __enter__(self) -> _NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()
        self.file.close()

    def __getitem__(self, name: str) -> Any:
        return self.read(name)

    def check(self) -> None:
        """Wait for the CRC checks :meth:`read` queued; a mismatch is a :class:`CheckpointError`."""
        pending, self.pending = self.pending, []
        for name, expected, crc in pending:
            if crc.result() != expected:
                raise CheckpointError(f"{self.path}: member {name} fails its CRC check; the file is corrupt")

    def read(self, name: str, *, check_now: bool = False) -> Any:
        """Member ``name`` as an array; its CRC is checked now or queued for :meth:`check`."""
        import struct
        import zipfile
        import zlib

        np = self.np
        info = self.members[name]
        if info.compress_type != zipfile.ZIP_STORED:
            with np.load(self.path, allow_pickle=False) as npz:
                return npz[name]
        f = self.file
        f.seek(info.header_offset)
        local = f.read(30)
        if local[:4] != b"PK\x03\x04":
            raise CheckpointError(
                f"{self.path}: member {info.filename} has no local header; the file is corrupt"
            )
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        f.seek(start)
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(f)
        if dtype.hasobject:
            raise CheckpointError(
                f"{self.path}: member {name} holds Python objects, which only pickle could read; trialog never "
                "unpickles checkpoint data"
            )
        header_len = f.tell() - start
        arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
        if header_len + arr.nbytes != info.file_size:
            raise CheckpointError(
                f"{self.path}: member {name} has the wrong size; the file is corrupt or truncated"
            )
        f.seek(start)
        header_crc = zlib.crc32(f.read(header_len))
        memory = b""
        if arr.size:
            memory = (arr if not fortran else arr.T).reshape(-1).view(np.uint8)
            if f.readinto(memory) != arr.nbytes:
                raise CheckpointError(f"{self.path}: member {name} is truncated")
        if check_now:
            if zlib.crc32(memory, header_crc) != info.CRC:
                raise CheckpointError(f"{self.path}: member {name} fails its CRC check; the file is corrupt")
        else:
            self.pending.append((name, info.CRC, on_helper("crc", zlib.crc32, memory, header_crc)))
        return arr


def _key_path(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _unsupported(where: str, value: Any) -> CheckpointError:
    return CheckpointError(
        f"checkpoint value {where or '<state>'!r} of type {type(value).__module__}.{type(value).__qualname__} "
        "cannot be stored by the npz format (numpy arrays, numbers, strings, bools, None, bytes, lists, tuples "
        "and dicts only); convert it, or use a format plugin that supports it (trialog-torch's 'torch')"
    )


def _as_array(value: Any, where: str, np: Any) -> Any:
    if isinstance(value, np.ndarray):
        arr = value
    elif hasattr(value, "__array__"):
        try:
            arr = np.asarray(value)
        except Exception as e:
            raise CheckpointError(
                f"checkpoint value {where!r}: cannot convert to a numpy array ({e})"
            ) from None
    else:
        return None
    if arr.dtype.hasobject:
        raise CheckpointError(
            f"checkpoint value {where!r} is an object array, which needs pickle; the npz format stores only "
            "numeric, bool and string arrays"
        )
    return arr


def _encode(value: Any, where: str, arrays: dict[str, Any], np: Any) -> Any:
    if value is None or (isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic)):
        return value
    if isinstance(value, Mapping):
        if all(type(k) is str for k in value):
            if any(k in _MARKERS for k in value):
                return {
                    "__items__": [[k, _encode(v, _key_path(where, k), arrays, np)] for k, v in value.items()]
                }
            return {k: _encode(v, _key_path(where, k), arrays, np) for k, v in value.items()}
        return {
            "__items__": [
                [_encode(k, f"{where}<key>", arrays, np), _encode(v, _key_path(where, k), arrays, np)]
                for k, v in value.items()
            ]
        }
    if isinstance(value, list):
        return [_encode(v, _key_path(where, i), arrays, np) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, _key_path(where, i), arrays, np) for i, v in enumerate(value)]}
    if isinstance(value, (bytes, bytearray, memoryview)):
        marker, arr = "__bytes__", np.frombuffer(bytes(value), dtype=np.uint8)
    elif isinstance(value, np.generic):
        marker, arr = "__scalar__", np.asarray(value)
        if arr.dtype.hasobject:
            raise _unsupported(where, value)
    else:
        marker, arr = "__ndarray__", _as_array(value, where, np)
        if arr is None:
            raise _unsupported(where, value)
    member = f"a{len(arrays)}"
    arrays[member] = arr
    return {marker: member}


def _decode(value: Any, npz: _NpzReader, np: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v, npz, np) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((marker, inner),) = value.items()
        if marker == "__ndarray__":
            return npz[inner]
        if marker == "__scalar__":
            return npz[inner][()]
        if marker == "__bytes__":
            return npz[inner].tobytes()
        if marker == "__tuple__":
            return tuple(_decode(v, npz, np) for v in inner)
        if marker == "__items__":
            return {_decode(k, npz, np): _decode(v, npz, np) for k, v in inner}
    return {k: _decode(v, npz, np) for k, v in value.items()}


def _copy(value: Any, where: str, np: Any, into: Any = None) -> Any:
    """Copy containers and arrays so the caller may change its objects while a background save runs.

    ``into`` is an earlier snapshot nobody uses any more: arrays of the same shape and dtype are copied into
    its buffers, which saves the page faults of fresh memory (most of the copy's time).
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, np.generic):
        return value
    if isinstance(value, Mapping):
        if not isinstance(into, dict):
            into = {}
        return {k: _copy(v, _key_path(where, k), np, into.get(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if not isinstance(into, (list, tuple)) or len(into) != len(value):
            into = [None] * len(value)
        items = [_copy(v, _key_path(where, i), np, old) for i, (v, old) in enumerate(zip(value, into))]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    arr = _as_array(value, where, np)
    if arr is None:
        raise _unsupported(where, value)
    if (
        isinstance(into, np.ndarray)
        and into.shape == arr.shape
        and into.dtype == arr.dtype
        and into.flags.writeable
        and into.flags.c_contiguous
    ):
        _copyto(into, arr, np)
        return into
    out = np.empty(arr.shape, dtype=arr.dtype)
    _copyto(out, arr, np)
    return out
