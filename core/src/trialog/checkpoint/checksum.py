"""Checksums of checkpoint payloads: computed while a file is written, checked before it is deserialised.

A checksum is written ``"ALGORITHM:HEXDIGEST"``. The algorithm is ``xxh3_128`` (xxhash, several GB/s per
core) when the ``xxhash`` package is installed, else ``blake2b`` from the standard library; a stored
checksum is always checked with the algorithm it names.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from typing import Any

from trialog.errors import CheckpointError

__all__ = ["DEFAULT_ALGORITHM", "file_checksum", "new_hasher", "split_checksum"]

# xxhash is a dependency of the core; this keeps a broken install working
try:
    import xxhash as _xxhash
except ImportError:  # pragma: no cover
    _xxhash = None  # type: ignore[assignment]

DEFAULT_ALGORITHM = "xxh3_128" if _xxhash is not None else "blake2b"
_READ_CHUNK = 16 << 20


def new_hasher(algorithm: str = DEFAULT_ALGORITHM) -> Any:
    """A hash object with ``update(bytes-like)`` and ``hexdigest()`` for ``algorithm``."""
    if algorithm == "xxh3_128":
        if _xxhash is None:
            raise CheckpointError(
                "this checkpoint's checksum is xxh3_128, which needs the xxhash package: pip install xxhash"
            )
        return _xxhash.xxh3_128()
    try:
        return hashlib.new(algorithm)
    except ValueError:
        raise CheckpointError(f"unknown checksum algorithm {algorithm!r}") from None


def split_checksum(checksum: str) -> tuple[str, str]:
    """``"xxh3_128:ab12"`` -> ``("xxh3_128", "ab12")``."""
    algorithm, sep, digest = str(checksum).partition(":")
    if not sep or not algorithm or not digest:
        raise CheckpointError(f"malformed checksum {checksum!r}; expected ALGORITHM:HEXDIGEST")
    return algorithm, digest


def file_checksum(path: str | os.PathLike[str], algorithm: str = DEFAULT_ALGORITHM) -> tuple[str, int]:
    """``("ALGORITHM:HEXDIGEST", size)`` of the file ``path``, read once through a memory map (no copy)."""
    hasher = new_hasher(algorithm)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size:
            try:
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    view = memoryview(mapped)
                    try:
                        for start in range(0, size, _READ_CHUNK):
                            hasher.update(view[start : start + _READ_CHUNK])
                    finally:
                        view.release()
            except (OSError, ValueError):  # a file system without mmap: read it instead
                f.seek(0)
                hasher = new_hasher(algorithm)
                while chunk := f.read(_READ_CHUNK):
                    hasher.update(chunk)
    return f"{algorithm}:{hasher.hexdigest()}", size
