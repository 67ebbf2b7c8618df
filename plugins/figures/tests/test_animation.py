"""Video frames and animated GIFs (``trialog_figures.animation``), read back with pillow."""

from __future__ import annotations

import io

import numpy as np
import pytest
from trialog_figures import encode_gif, to_frames

from trialog.api import CombinedLogger, hookimpl
from trialog.errors import ConfigError

Image = pytest.importorskip("PIL.Image")


def _clip(n: int = 4, height: int = 6, width: int = 8) -> np.ndarray:
    """(L, C, H, W) floats whose frames all differ (a GIF merges identical neighbours)."""
    return np.stack([np.full((3, height, width), (i + 1) / (n + 1)) for i in range(n)])


def test_to_frames_reads_both_layouts_and_sequences():
    lchw = _clip()
    first = to_frames(lchw, dim="LxCxHxW")
    assert len(first) == 4 and first[0].shape == (6, 8, 3) and first[0].dtype == np.uint8
    lhwc = lchw.transpose(0, 2, 3, 1)
    assert all(np.array_equal(a, b) for a, b in zip(first, to_frames(lhwc, dim="LxHxWxC")))
    assert all(np.array_equal(a, b) for a, b in zip(first, to_frames(list(lhwc))))
    assert to_frames(np.zeros((2, 5, 7)))[0].shape == (5, 7, 1)  # (L, H, W) grey


def test_to_frames_scale_and_normalize():
    frames = to_frames(np.arange(2 * 4 * 4, dtype=float).reshape(2, 1, 4, 4), normalize=True, scale=2.0)
    assert frames[0].shape == (8, 8, 1)
    assert frames[0].min() == 0 and frames[1].max() == 255  # one range over the whole clip


@pytest.mark.parametrize(
    "frames, options, match",
    [
        (None, {}, "no frame"),
        ([], {}, "no frame"),
        (np.zeros((2, 3, 4, 4)), {"dim": "CxHxW"}, "dim='CxHxW' unknown"),
        (np.zeros((3, 4, 4)), {"dim": "LxCxHxW"}, "must be a 4-D array"),
        ([np.zeros((4, 4)), np.zeros((5, 5))], {}, "differ in size"),
        (np.zeros((2, 3, 4, 4)), {"scale": 0}, "scale must be a positive number"),
    ],
)
def test_bad_frames_are_named_errors(frames, options, match):
    with pytest.raises(ConfigError, match=match):
        to_frames(frames, **options)


def test_encode_gif_is_an_animated_gif_at_the_frame_rate():
    data = encode_gif(_clip(), fps=10, scale=2)
    image = Image.open(io.BytesIO(data))
    assert data[:6] == b"GIF89a"
    assert (image.n_frames, image.size, image.info["duration"], image.info["loop"]) == (4, (16, 12), 100, 0)
    with pytest.raises(ConfigError, match="fps must be a positive number"):
        encode_gif(_clip(), fps=0)


class _Frames:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl
    def show_video(self, frames, name, counter, fps):
        self.calls.append((type(frames), np.shape(frames), name, counter, fps))


def test_show_video_is_a_hook_with_trixis_fps_default_and_converted_tensors():
    torch = pytest.importorskip("torch")
    seen = _Frames()
    with CombinedLogger({"seen": seen}) as clog:
        clog.show_video(torch.zeros(3, 4, 4, 3), "clip")
        clog.show_video(_clip(), "clip", counter=7, fps=5)
    assert seen.calls == [
        (np.ndarray, (3, 4, 4, 3), "clip", None, 25),
        (np.ndarray, (4, 3, 6, 8), "clip", 7, 5),
    ]
