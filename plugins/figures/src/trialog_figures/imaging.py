"""Image helpers on numpy alone: layout to HWC uint8, torchvision-style grids, a PNG writer and reader.

Loggers share these so every backend sees an image the same way; nothing here imports torch, PIL or
matplotlib.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trialog.errors import TrialogError

__all__ = ["decode_png", "encode_png", "make_grid", "to_float_chw", "to_hwc_uint8"]

_CHANNELS = (1, 3, 4)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type per channel count: grey, grey+alpha, RGB, RGBA.
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}
_CHANNELS_OF_COLOR_TYPE = {v: k for k, v in _COLOR_TYPE.items()}


def _as_numpy(image: Any) -> np.ndarray:
    # Duck-typed torch support: the dispatcher already converts, but callers of these helpers may not.
    if hasattr(image, "detach") and hasattr(image, "cpu"):
        image = image.detach().cpu().numpy()
    return np.asarray(image)


def _chw(array: np.ndarray, what: str) -> np.ndarray:
    """One image as (C, H, W) in its own dtype; (H, W) gains C=1. CHW wins when both ends could be C."""
    if array.ndim == 2:
        return array[None]
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 3:
        if array.shape[0] in _CHANNELS:
            return array
        if array.shape[2] in _CHANNELS:
            return array.transpose(2, 0, 1)
    raise TrialogError(
        f"{what} has shape {tuple(array.shape)}; expected (H, W), (C, H, W) or (H, W, C) with C in 1, 3 or 4"
    )


def _to_unit_float(array: np.ndarray, normalize: bool) -> np.ndarray:
    """Values as float32 in [0, 1]: uint8 / 255, bool as 0/1, floats clipped; ``normalize`` stretches min..max."""
    if array.dtype == np.bool_:
        out = array.astype(np.float32)
    elif array.dtype.kind in "iu" and not normalize:
        out = np.clip(array, 0, 255).astype(np.float32) / 255.0
    elif array.dtype.kind in "iuf":
        out = array.astype(np.float32)
    else:
        raise TrialogError(f"image of dtype {array.dtype} cannot be shown; pass a numeric or bool array")
    if normalize:
        finite = out[np.isfinite(out)]
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 1.0
        out = (out - low) / max(high - low, 1e-5)
    out = np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(out, 0.0, 1.0, out=out)


def _float_to_uint8(array: np.ndarray) -> np.ndarray:
    # Same rounding as torchvision's save_image: x * 255 + 0.5, truncated.
    return (array * 255.0 + 0.5).astype(np.uint8)


def to_float_chw(image: Any, normalize: bool = False) -> np.ndarray:
    """One image as float32 (C, H, W) in [0, 1], C in 1, 3, 4 (the layout Visdom and torch use)."""
    array = _as_numpy(image)
    return _to_unit_float(_chw(array, "image"), normalize)


def to_hwc_uint8(image: Any, normalize: bool = False) -> np.ndarray:
    """One image as uint8 (H, W, C), C in 1, 3, 4.

    Accepts (H, W), (C, H, W), (H, W, C) (and (1, C, H, W)); when both ends could be channels the torch
    layout (C, H, W) wins. uint8 is kept, bool maps to 0/255, floats are taken as [0, 1] and clipped,
    other integers as 0..255; ``normalize`` stretches the image's min..max to 0..255 instead.
    """
    array = _as_numpy(image)
    chw = _chw(array, "image")
    if chw.dtype == np.uint8 and not normalize:
        return np.ascontiguousarray(chw.transpose(1, 2, 0))
    return np.ascontiguousarray(_float_to_uint8(_to_unit_float(chw, normalize)).transpose(1, 2, 0))


def _batch_chw(images: Any) -> list[np.ndarray]:
    """A batch as a list of (C, H, W) arrays: (N, C, H, W), (N, H, W, C), (N, H, W) or a sequence of images."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise TrialogError("make_grid got an empty sequence of images; pass at least one image")
        return [_chw(_as_numpy(img), f"image {i} of the batch") for i, img in enumerate(images)]
    array = _as_numpy(images)
    if array.ndim == 2:
        return [array[None]]
    if array.ndim == 3:
        # (N, H, W) is a batch of grey images unless it reads as one colour image.
        if array.shape[0] in _CHANNELS or array.shape[2] in _CHANNELS:
            return [_chw(array, "image batch")]
        return [img[None] for img in array]
    if array.ndim == 4:
        if array.shape[0] == 0:
            raise TrialogError("make_grid got an empty batch (N=0); pass at least one image")
        if array.shape[1] in _CHANNELS:
            return list(array)
        if array.shape[3] in _CHANNELS:
            return list(array.transpose(0, 3, 1, 2))
    raise TrialogError(
        f"image batch has shape {tuple(array.shape)}; expected (N, C, H, W), (N, H, W, C) or (N, H, W) "
        "with C in 1, 3 or 4, or a sequence of images"
    )


def make_grid(
    images: Any, nrow: int = 8, padding: int = 2, normalize: bool = False, pad_value: float = 0.0
) -> np.ndarray:
    """Tile a batch into one uint8 (H, W, C) image, like ``torchvision.utils.make_grid`` + ``save_image``.

    ``nrow`` images per row; ``normalize`` stretches the whole batch's min..max to [0, 1];
    ``pad_value`` is in image units ([0, 1]). Grey images become RGB and a single image comes back
    without padding, as in torchvision. All images must share H and W.
    """
    if nrow < 1:
        raise TrialogError(f"make_grid: nrow must be >= 1, got {nrow}")
    if padding < 0:
        raise TrialogError(f"make_grid: padding must be >= 0, got {padding}")
    chws = _batch_chw(images)
    sizes = {img.shape[1:] for img in chws}
    if len(sizes) > 1:
        raise TrialogError(
            f"make_grid: images differ in size {sorted(sizes)}; resize them to one (H, W) first"
        )
    # torchvision normalises the batch as one tensor (scale_each=False): one min..max for all.
    if normalize:
        stacked = _to_unit_float(np.stack([img.astype(np.float32) for img in _same_channels(chws)]), True)
        floats = list(stacked)
    else:
        floats = [_to_unit_float(img, False) for img in _same_channels(chws)]
    channels = floats[0].shape[0]
    if len(floats) == 1:
        return np.ascontiguousarray(_float_to_uint8(floats[0]).transpose(1, 2, 0))
    height, width = floats[0].shape[1:]
    xmaps = min(nrow, len(floats))
    ymaps = -(-len(floats) // xmaps)
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * ymaps + padding, cell_w * xmaps + padding), pad_value, np.float32)
    for k, img in enumerate(floats):
        y, x = divmod(k, xmaps)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top : top + height, left : left + width] = img
    np.clip(grid, 0.0, 1.0, out=grid)
    return np.ascontiguousarray(_float_to_uint8(grid).transpose(1, 2, 0))


def _same_channels(chws: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Grey becomes RGB (torchvision's rule); RGB gains an opaque alpha when any image is RGBA."""
    target = 4 if any(img.shape[0] == 4 for img in chws) else 3
    out = []
    for img in chws:
        if img.shape[0] == 1:
            img = np.repeat(img, 3, axis=0)
        if img.shape[0] == 3 and target == 4:
            opaque = np.iinfo(np.uint8).max if img.dtype == np.uint8 else 1
            img = np.concatenate([img, np.full((1, *img.shape[1:]), opaque, img.dtype)], axis=0)
        out.append(img)
    return out


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(image: np.ndarray, compress_level: int = 6, text: Mapping[str, str] | None = None) -> bytes:
    """Encode a uint8 (H, W) or (H, W, C) image (C in 1..4) as PNG bytes (8 bit, no filter, zlib).

    ``text`` adds tEXt chunks ({"Title": "epoch 3"}): keywords of 1-79 Latin-1 characters.
    """
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in _COLOR_TYPE or array.dtype != np.uint8:
        raise TrialogError(
            f"encode_png needs uint8 (H, W) or (H, W, C) with C in 1..4, got {array.dtype} {tuple(array.shape)}; "
            "convert with trialog_figures.to_hwc_uint8 first"
        )
    height, width, channels = array.shape
    if height == 0 or width == 0:
        raise TrialogError(f"encode_png got an empty image of shape {tuple(array.shape)}")
    # Each scanline starts with its filter type; 0 (none) keeps encoding a single numpy pass.
    rows = np.zeros((height, width * channels + 1), np.uint8)
    rows[:, 1:] = array.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    chunks = [_PNG_SIGNATURE, _chunk(b"IHDR", header)]
    for key, value in (text or {}).items():
        if not 1 <= len(key) <= 79:
            raise TrialogError(f"encode_png: text keyword {key!r} must have 1 to 79 characters")
        body = key.encode("latin-1", "replace") + b"\0" + str(value).encode("latin-1", "replace")
        chunks.append(_chunk(b"tEXt", body))
    chunks += [_chunk(b"IDAT", zlib.compress(rows.tobytes(), compress_level)), _chunk(b"IEND", b"")]
    return b"".join(chunks)


def decode_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced grey / grey+alpha / RGB / RGBA PNG into uint8 (H, W, C)."""
    if not data.startswith(_PNG_SIGNATURE):
        raise TrialogError("decode_png: the data does not start with the PNG signature")
    pos = len(_PNG_SIGNATURE)
    header = None
    idat = []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise TrialogError(f"decode_png: bad CRC in chunk {kind!r}; the file is corrupt")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise TrialogError("decode_png: no IHDR chunk; the data is not a complete PNG")
    width, height, depth, color_type, _, _, interlace = header
    if depth != 8 or color_type not in _CHANNELS_OF_COLOR_TYPE or interlace:
        raise TrialogError(
            f"decode_png reads 8-bit non-interlaced grey/RGB(A) only (got depth {depth}, colour type "
            f"{color_type}, interlace {interlace}); use PIL for other PNGs"
        )
    channels = _CHANNELS_OF_COLOR_TYPE[color_type]
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    if raw.size != height * (stride + 1):
        raise TrialogError(f"decode_png: image data has {raw.size} bytes, expected {height * (stride + 1)}")
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prior = np.zeros(stride, np.uint8)
    for y in range(height):
        out[y] = prior = _unfilter(int(rows[y, 0]), rows[y, 1:], prior, channels)
    return out.reshape(height, width, channels)


def _unfilter(kind: int, line: np.ndarray, prior: np.ndarray, bpp: int) -> np.ndarray:
    if kind == 0:
        return line
    if kind == 2:
        return line + prior
    if kind == 1:
        # Sub is a running sum per channel, mod 256: vectorised with cumsum.
        per_pixel = line.reshape(-1, bpp).astype(np.uint32)
        return (np.cumsum(per_pixel, axis=0) & 0xFF).astype(np.uint8).reshape(-1)
    if kind not in (3, 4):
        raise TrialogError(f"decode_png: unknown scanline filter type {kind}; the file is corrupt")
    # Average and Paeth depend on the byte just decoded: a plain loop over the scanline.
    cur = bytearray(line.tobytes())
    up = prior.tobytes()
    for i in range(len(cur)):
        left = cur[i - bpp] if i >= bpp else 0
        if kind == 3:
            cur[i] = (cur[i] + ((left + up[i]) >> 1)) & 0xFF
        else:
            upper_left = up[i - bpp] if i >= bpp else 0
            p = left + up[i] - upper_left
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - upper_left)
            pred = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else upper_left)
            cur[i] = (cur[i] + pred) & 0xFF
    return np.frombuffer(bytes(cur), np.uint8)
