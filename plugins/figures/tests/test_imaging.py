"""trialog_figures.imaging: layouts, dtypes, grids with torchvision's geometry, and PNG round trips."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from trialog_figures import decode_png, encode_png, make_grid, to_float_chw, to_hwc_uint8

from trialog.errors import TrialogError


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((5, 7), (5, 7, 1)),
        ((1, 5, 7), (5, 7, 1)),
        ((3, 5, 7), (5, 7, 3)),
        ((4, 5, 7), (5, 7, 4)),
        ((5, 7, 3), (5, 7, 3)),
        ((5, 7, 1), (5, 7, 1)),
        ((1, 3, 5, 7), (5, 7, 3)),
    ],
)
def test_to_hwc_uint8_layouts(shape, expected):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    out = to_hwc_uint8(image)
    assert out.shape == expected and out.dtype == np.uint8
    # The pixel values survive the transpose: channel 0, pixel (2, 4).
    chw = image.reshape(-1, *image.shape[-3:])[0] if image.ndim == 4 else image
    if chw.ndim == 2:
        assert out[2, 4, 0] == chw[2, 4]
    elif chw.shape[0] in (1, 3, 4):
        assert out[2, 4, 0] == chw[0, 2, 4]
    else:
        assert out[2, 4, 0] == chw[2, 4, 0]


def test_chw_wins_when_both_ends_could_be_channels():
    image = np.zeros((3, 8, 4), np.uint8)
    assert to_hwc_uint8(image).shape == (8, 4, 3)


def test_float_bool_and_int_conversion():
    floats = np.array([[0.0, 0.5, 1.0, 2.0, -1.0, np.nan]])
    assert to_hwc_uint8(floats)[0, :, 0].tolist() == [0, 128, 255, 255, 0, 0]
    assert to_hwc_uint8(np.array([[True, False]]))[0, :, 0].tolist() == [255, 0]
    assert to_hwc_uint8(np.array([[0, 100, 300]], np.int64))[0, :, 0].tolist() == [0, 100, 255]


def test_normalize_stretches_min_max():
    image = np.array([[-2.0, 0.0, 2.0]])
    assert to_hwc_uint8(image, normalize=True)[0, :, 0].tolist() == [0, 128, 255]
    # A constant image cannot be stretched: it becomes black, not NaN.
    assert to_hwc_uint8(np.full((2, 2), 7.0), normalize=True).max() == 0


def test_to_float_chw():
    out = to_float_chw(np.full((5, 6, 3), 255, np.uint8))
    assert out.shape == (3, 5, 6) and out.dtype == np.float32 and np.all(out == 1.0)


def test_torch_tensor_is_accepted():
    torch = pytest.importorskip("torch")
    out = to_hwc_uint8(torch.ones(3, 4, 5, requires_grad=True))
    assert out.shape == (4, 5, 3) and out.min() == 255


@pytest.mark.parametrize("shape", [(5,), (2, 2, 5, 5), (5, 5, 5), (5, 5, 2)])
def test_bad_shapes_name_the_shape(shape):
    with pytest.raises(TrialogError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        to_hwc_uint8(np.zeros(shape))


def test_bad_dtype():
    with pytest.raises(TrialogError, match="dtype"):
        to_hwc_uint8(np.array([["a", "b"]]))


def test_make_grid_geometry_matches_torchvision():
    # 10 images 1x4x6, nrow 4, padding 2: 4 columns, 3 rows -> (3*(4+2)+2, 4*(6+2)+2), grey -> RGB.
    images = np.stack([np.full((1, 4, 6), (k + 1) / 10, np.float32) for k in range(10)])
    grid = make_grid(images, nrow=4, padding=2, pad_value=0.0)
    assert grid.shape == (20, 34, 3)
    for k in range(10):
        y, x = divmod(k, 4)
        top, left = y * 6 + 2, x * 8 + 2
        cell = grid[top : top + 4, left : left + 6]
        assert np.all(cell == int((k + 1) / 10 * 255 + 0.5)), k
    assert np.all(grid[:2] == 0) and np.all(grid[:, :2] == 0)
    # The slots after the last image stay padding.
    assert np.all(grid[14:18, 2 * 8 + 2 :] == 0)


def test_make_grid_pad_value_and_normalize_over_the_batch():
    images = np.stack([np.zeros((3, 2, 2)), np.full((3, 2, 2), 4.0)])
    grid = make_grid(images, nrow=2, padding=1, normalize=True, pad_value=1.0)
    assert grid.shape == (4, 7, 3)
    assert grid[1, 1].tolist() == [0, 0, 0]
    assert grid[1, 4].tolist() == [255, 255, 255]
    assert grid[0, 0].tolist() == [255, 255, 255]


def test_make_grid_single_image_has_no_padding():
    assert make_grid(np.zeros((1, 3, 5, 6)), padding=2).shape == (5, 6, 3)


def test_make_grid_inputs():
    assert make_grid(np.zeros((6, 5, 5)), nrow=3, padding=0).shape == (10, 15, 3)
    assert make_grid(np.zeros((2, 5, 5, 3), np.uint8), nrow=2, padding=0).shape == (5, 10, 3)
    rgba = [np.zeros((4, 5, 5)), np.zeros((5, 5))]
    grid = make_grid(rgba, padding=0)
    assert grid.shape == (5, 10, 4) and np.all(grid[:, 5:, 3] == 255)


def test_make_grid_errors():
    with pytest.raises(TrialogError, match="differ in size"):
        make_grid([np.zeros((3, 4, 4)), np.zeros((3, 5, 5))])
    with pytest.raises(TrialogError, match="empty"):
        make_grid([])
    with pytest.raises(TrialogError, match="nrow"):
        make_grid(np.zeros((2, 3, 4, 4)), nrow=0)
    with pytest.raises(TrialogError, match=r"\(2, 2, 2, 2, 2\)"):
        make_grid(np.zeros((2, 2, 2, 2, 2)))


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trip_and_pil_reads_it(channels):
    image = np.random.default_rng(channels).integers(0, 256, (9, 13, channels), dtype=np.uint8)
    data = encode_png(image)
    assert np.array_equal(decode_png(data), image)
    pil = pytest.importorskip("PIL.Image")
    read = np.asarray(pil.open(io.BytesIO(data)))
    assert np.array_equal(read.reshape(image.shape), image)


def test_decode_png_undoes_every_filter():
    pil = pytest.importorskip("PIL.Image")
    # A smooth gradient plus noise makes libpng pick Sub/Up/Average/Paeth filters.
    y, x = np.mgrid[0:40, 0:50]
    image = np.stack([x * 5, y * 6, (x + y) * 2, np.full_like(x, 200)], axis=-1).astype(np.uint8)
    image[::7, ::5] = 13
    buffer = io.BytesIO()
    pil.fromarray(image).save(buffer, format="PNG", optimize=True)
    assert np.array_equal(decode_png(buffer.getvalue()), image)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filtered_png(image: np.ndarray, kinds: list[int]) -> bytes:
    """A PNG whose row y uses filter kinds[y], filtered here by the PNG spec's formulas."""
    height, width, bpp = image.shape
    rows = image.reshape(height, width * bpp).astype(int)
    out = bytearray()
    for y in range(height):
        prior = rows[y - 1] if y else np.zeros(width * bpp, int)
        out.append(kinds[y])
        for i in range(width * bpp):
            a = rows[y, i - bpp] if i >= bpp else 0
            c = prior[i - bpp] if i >= bpp else 0
            pred = [0, a, prior[i], (a + prior[i]) // 2, _paeth(a, prior[i], c)][kinds[y]]
            out.append((rows[y, i] - pred) % 256)
    plain = encode_png(image)
    start = plain.index(b"IDAT")
    body = b"IDAT" + zlib.compress(bytes(out))
    chunk = len(body[4:]).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    return plain[: start - 4] + chunk + plain[plain.index(b"IEND") - 4 :]


def test_decode_png_all_five_filter_types():
    image = np.random.default_rng(5).integers(0, 256, (10, 7, 3), dtype=np.uint8)
    data = _filtered_png(image, [0, 1, 2, 3, 4, 3, 4, 1, 2, 3])
    assert np.array_equal(decode_png(data), image)


def test_decode_png_rejects_corrupt_data():
    data = bytearray(encode_png(np.zeros((3, 3), np.uint8)))
    with pytest.raises(TrialogError, match="signature"):
        decode_png(b"GIF89a")
    data[-20] ^= 0xFF
    with pytest.raises(TrialogError, match="CRC"):
        decode_png(bytes(data))


def test_encode_png_rejects_non_uint8():
    with pytest.raises(TrialogError, match="to_hwc_uint8"):
        encode_png(np.zeros((3, 3), np.float32))


def test_encode_png_is_valid_zlib_stream():
    data = encode_png(np.full((2, 3, 3), 9, np.uint8))
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    assert zlib.decompress(data[start : start + length]) == (b"\x00" + b"\x09" * 9) * 2


def test_encode_png_text_chunks_are_read_by_pil():
    pil = pytest.importorskip("PIL.Image")
    data = encode_png(np.zeros((2, 2, 3), np.uint8), text={"Title": "epoch 3"})
    assert pil.open(io.BytesIO(data)).text == {"Title": "epoch 3"}
    assert decode_png(data).shape == (2, 2, 3)
    with pytest.raises(TrialogError, match="keyword"):
        encode_png(np.zeros((2, 2), np.uint8), text={"": "x"})
