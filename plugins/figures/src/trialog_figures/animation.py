"""Frames of a video as uint8 images, and as one animated GIF (the ``show_video`` hook's shared helpers).

GIF encoding needs pillow (``pip install trialog-figures[video]``), imported on first use; a GIF is what every
backend here can show without a video codec (TensorBoard's image dashboard animates it, a browser does,
Visdom's text pane does)::

    frames = to_frames(clip, dim="LxCxHxW")       # [(H, W, C) uint8, ...]
    Path("clip.gif").write_bytes(encode_gif(frames, fps=10))
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from trialog.api import optional_import
from trialog.errors import ConfigError

__all__ = ["DIMS", "encode_gif", "to_frames"]

#: Frame layouts of a 4-D array, as trixi's ``show_video(dim=...)`` names them.
DIMS = ("LxHxWxC", "LxCxHxW")


def to_frames(
    frames: Any, dim: str | None = None, normalize: bool = False, scale: float = 1.0
) -> list[np.ndarray]:
    """Frames as a list of uint8 (H, W, C) images of one size.

    ``frames``: a sequence of images, an (L, H, W, C) / (L, C, H, W) array or an (L, H, W) grey one.
    ``dim`` says which 4-D layout it is (``"LxHxWxC"`` or ``"LxCxHxW"``); None: each frame's own layout
    decides, as for :func:`trialog_figures.imaging.to_hwc_uint8`. ``normalize`` stretches the clip's
    min..max to 0..255 (one range for all frames, so brightness does not flicker); ``scale`` resizes
    every frame by that factor (nearest neighbour).
    """
    from .imaging import to_hwc_uint8

    if not (isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0):
        raise ConfigError(f"scale must be a positive number, got {scale!r}")
    if dim is not None and dim not in DIMS:
        raise ConfigError(f"frame layout dim={dim!r} unknown; use one of {', '.join(DIMS)}")
    if frames is None or (isinstance(frames, (list, tuple)) and not frames):
        raise ConfigError("frames: got no frame; pass at least one image")
    if isinstance(frames, (list, tuple)) and dim is None:
        items = [_numpy(f) for f in frames]
    else:
        array = np.stack([_numpy(f) for f in frames]) if isinstance(frames, (list, tuple)) else _numpy(frames)
        if dim is not None and array.ndim != 4:
            raise ConfigError(f"frames of layout {dim} must be a 4-D array, got shape {tuple(array.shape)}")
        if dim == "LxHxWxC":  # to (L, C, H, W): the layout each frame's conversion then reads first
            array = array.transpose(0, 3, 1, 2)
        if array.ndim not in (3, 4):
            raise ConfigError(
                f"frames have shape {tuple(array.shape)}; expected (L, H, W, C), (L, C, H, W), (L, H, W) "
                "or a sequence of images"
            )
        items = list(array)
    if not items:
        raise ConfigError("frames: got no frame; pass at least one image")
    if normalize:
        stacked = np.stack([np.asarray(f, dtype=np.float32) for f in items])
        finite = stacked[np.isfinite(stacked)]
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 1.0
        items = list((stacked - low) / max(high - low, 1e-5))
    out = [to_hwc_uint8(frame) for frame in items]
    sizes = {f.shape for f in out}
    if len(sizes) > 1:
        raise ConfigError(f"frames differ in size or channels {sorted(sizes)}; give every frame one shape")
    if scale != 1.0:
        height, width = out[0].shape[:2]
        rows = (np.arange(max(1, round(height * scale))) / scale).astype(int).clip(0, height - 1)
        cols = (np.arange(max(1, round(width * scale))) / scale).astype(int).clip(0, width - 1)
        out = [np.ascontiguousarray(f[rows][:, cols]) for f in out]
    return out


def encode_gif(frames: Any, fps: float = 25, scale: float = 1.0, loop: int = 0) -> bytes:
    """An animated GIF of ``frames`` (anything :func:`to_frames` takes) at ``fps``, each frame resized by ``scale``.

    GIF stores delays in hundredths of a second: ``fps`` above 50 play at 50. ``loop=0`` repeats forever.
    """
    if not (isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0):
        raise ConfigError(f"fps must be a positive number, got {fps!r}")
    images = to_frames(frames, scale=scale)
    Image = optional_import(
        "PIL.Image", "encoding an animated GIF", "trialog-figures[video]", package="pillow"
    )
    pictures = []
    for frame in images:
        channels = frame.shape[2]
        if channels == 1:
            picture = Image.fromarray(np.ascontiguousarray(frame[..., 0]))
        else:  # GIF has no alpha channel worth keeping: RGBA is drawn over black
            rgb = (
                frame[..., :3]
                if channels == 3
                else (frame[..., :3] * (frame[..., 3:] / 255.0)).astype(np.uint8)
            )
            picture = Image.fromarray(np.ascontiguousarray(rgb))
        pictures.append(picture)
    buffer = io.BytesIO()
    duration = max(20, round(1000.0 / fps / 10) * 10)  # milliseconds, in GIF's 10 ms steps
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=duration,
        loop=loop,
        disposal=1,
        optimize=False,
    )
    return buffer.getvalue()


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
