"""Any photo the loader accepts can be cut out: extreme aspect ratios and tiny sizes.

The whole headless pipeline (``matting-studio cutout`` in process, a tiny ONNX stand-in
model) runs on thin and long photos with a subject. OpenCV's ``remap`` refuses sides of 32767
pixels or more; the alpha upsampling and the foreground colours go through
:func:`~matting_studio.core.resample.remap_separable`, which splits such calls, and is checked
here to give the very same pixels as one ``cv2.remap`` call wherever that works.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from matting_studio import cli
from matting_studio.core import resample
from matting_studio.core.foreground import estimate_foreground
from matting_studio.core.matting import multiscale
from matting_studio.core.matting.multiscale import (
    colour_line_coefficients,
    upsample_alpha,
)
from matting_studio.core.resample import remap_separable

WARM, COOL = (220, 120, 60), (40, 90, 170)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("onnx")
    import onnx_models

    return onnx_models.warm_colour_model(tmp_path_factory.mktemp("model") / "warm.onnx")


def long_photo(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A warm subject on a cool background, uint8 RGB (h, w, 3), and where the subject is.

    The subject covers 5 %–95 % of the long side (so the soft edges span nearly all of it) and
    the middle half of the short side (all of it when that side is under 8 pixels)."""
    long_side, short_side = max(w, h), min(w, h)
    along = np.zeros(long_side, bool)
    along[int(0.05 * long_side):max(int(0.95 * long_side), 1)] = True
    across = np.ones(short_side, bool)
    if short_side >= 8:
        across[:] = False
        across[short_side // 4: short_side - short_side // 4] = True
    subj = along[None, :] & across[:, None]  # (short, long)
    if h > w:
        subj = subj.T
    img = np.empty((h, w, 3), np.uint8)
    img[:] = COOL
    img[subj] = WARM
    return img, subj


SHAPES = [
    (100_000, 64, False),  # the failing case of issue 19: OpenCV's dst.cols < SHRT_MAX
    (64, 100_000, False),
    (40_000, 3, False),
    (3, 40_000, False),
    # semi-transparent pixels near both ends of the subject: the foreground's reduced copy of
    # the band is itself wider than 32767 pixels
    (150_000, 4, True),
    (4, 150_000, True),
    (1, 1, False),
    (1, 700, False),
    (700, 1, False),
    (2, 3, False),
]


def veil_at(n: int) -> list[int]:
    """Two positions just inside the subject's ends (5 % and 95 % of the long side)."""
    return [int(0.055 * n), n - int(0.055 * n)]


def veiled(img: np.ndarray) -> np.ndarray:
    """RGBA with two half-transparent lines across the subject, near its ends."""
    alpha = np.full(img.shape[:2], 255, np.uint8)
    n = max(img.shape[:2])
    view = alpha if img.shape[1] >= img.shape[0] else alpha.T
    view[:, veil_at(n)] = 128
    return np.dstack([img, alpha])


@pytest.mark.slow
@pytest.mark.parametrize("w,h,veil", SHAPES, ids=[f"{w}x{h}" for w, h, _ in SHAPES])
def test_extreme_shapes_are_cut_out(w, h, veil, tmp_path, tiny_model, capsys):
    img, subj = long_photo(w, h)
    src = tmp_path / "photo.png"
    bgr = img[:, :, ::-1]
    assert cv2.imwrite(str(src), veiled(bgr) if veil else bgr)
    before = src.read_bytes()
    out = tmp_path / "cut.png"
    t0 = time.perf_counter()
    code = cli.main(["cutout", "-q", "--model", str(tiny_model), "--preset", "u2netp",
                     str(src), "-o", str(out)])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert code == 0, err
    assert err == "", err
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.png", "photo.png"]
    with Image.open(out) as im:
        assert im.mode == "RGBA" and im.size == (w, h)
        alpha = np.asarray(im)[:, :, 3].astype(np.float32) / 255.0
    if min(w, h) >= 3 and max(w, h) >= 100:  # room for a subject and a background
        assert alpha[subj].mean() > 0.8, alpha[subj].mean()
        # background well away from the subject's ends
        far = np.zeros_like(subj)
        n = max(w, h)
        if w >= h:
            far[:, : n // 50] = far[:, n - n // 50:] = True
        else:
            far[: n // 50] = far[n - n // 50:] = True
        assert alpha[far].mean() < 0.1, alpha[far].mean()
    if veil:  # the file's own transparency caps the cut-out
        n = max(w, h)
        lines = alpha[:, veil_at(n)] if w > h else alpha[veil_at(n)]
        assert np.all(np.abs(lines - 128 / 255) < 0.01)
    print(f"{w}x{h}: {elapsed:.1f} s")


def _reference_bilinear(src: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Plain numpy bilinear sampling with a replicated border (float64)."""
    h, w = src.shape[:2]
    y = np.clip(ys.astype(np.float64), 0, h - 1)
    x = np.clip(xs.astype(np.float64), 0, w - 1)
    y0 = np.floor(y).astype(int)
    x0 = np.floor(x).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    if src.ndim == 3:
        fy, fx = fy[..., None], fx[..., None]
    s = src.astype(np.float64)
    top = s[y0][:, x0] * (1 - fx) + s[y0][:, x1] * fx
    bot = s[y1][:, x0] * (1 - fx) + s[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy


def test_opencv_remap_limit_and_the_split_call():
    """cv2.remap refuses a 40000-pixel-wide result; the split call samples it correctly."""
    rng = np.random.default_rng(0)
    src = rng.random((4, 40_000, 4), dtype=np.float32)
    ys = np.array([0.25, 2.5], np.float32)
    xs = (np.arange(40_000, dtype=np.float32) * 0.999 + 0.3).astype(np.float32)
    mx = np.ascontiguousarray(np.broadcast_to(xs[None, :], (2, xs.size)))
    my = np.ascontiguousarray(np.broadcast_to(ys[:, None], (2, xs.size)))
    with pytest.raises(cv2.error, match="SHRT_MAX"):
        cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    got = remap_separable(src, ys, xs)
    assert got.shape == (2, 40_000, 4) and got.dtype == np.float32
    # OpenCV weighs with 5-bit fractions: within 1/32 of a step between neighbours
    assert np.abs(got - _reference_bilinear(src, ys, xs)).max() < 1 / 32
    tall = remap_separable(src[:, :3].transpose(1, 0, 2).copy(), xs, ys[:1] * 0)
    assert tall.shape == (40_000, 1, 4)


@pytest.mark.parametrize("block", [1, 5, 64])
@pytest.mark.parametrize("case", ["up", "down", "offset", "one_pixel", "grey"])
def test_split_remap_equals_one_call(case, block):
    """Wherever a single cv2.remap works, the split call returns exactly its pixels."""
    rng = np.random.default_rng(hash(case) % 1000)
    shapes = {"up": ((30, 47, 4), (101, 77)), "down": ((200, 150, 3), (41, 33)),
              "offset": ((60, 60, 4), (90, 120)), "one_pixel": ((1, 1, 3), (5, 9)),
              "grey": ((37, 91), (64, 256))}
    (sh, (H, W)) = shapes[case]
    src = rng.random(sh, dtype=np.float32)
    ys = ((np.arange(H, dtype=np.float32) + 0.5) * sh[0] / H - 0.5).astype(np.float32)
    xs = ((np.arange(W, dtype=np.float32) + 0.5) * sh[1] / W - 0.5).astype(np.float32)
    if case == "offset":  # beyond the border on both sides, non-uniform steps
        ys = (ys * 1.3 - 7.25).astype(np.float32)
        xs = np.sort(rng.uniform(-5, 70, W)).astype(np.float32)
    mx = np.ascontiguousarray(np.broadcast_to(xs[None, :], (H, W)))
    my = np.ascontiguousarray(np.broadcast_to(ys[:, None], (H, W)))
    want = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    got = remap_separable(src, ys, xs, block=block)
    assert got.shape == want.shape and got.dtype == want.dtype
    if src.ndim == 3:
        assert np.array_equal(got, want)
    else:  # one channel: OpenCV's vector and scalar loops round the last bit differently
        assert np.abs(got - want).max() <= 2.5e-7


def test_upsampling_and_edge_colours_do_not_depend_on_the_split(monkeypatch):
    """upsample_alpha and estimate_foreground give the same pixels with tiny remap blocks."""
    img_u8, subj = long_photo(300, 180)
    rng = np.random.default_rng(3)
    img = np.clip(img_u8.astype(np.float32) / 255 + rng.normal(0, 0.03, img_u8.shape), 0, 1)
    img = img.astype(np.float32)
    dist = cv2.distanceTransform((~subj).astype(np.uint8), cv2.DIST_L2, 3) \
        - cv2.distanceTransform(subj.astype(np.uint8), cv2.DIST_L2, 3)
    alpha = np.clip(0.5 - dist / 6, 0, 1).astype(np.float32)
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[alpha >= 1] = 255
    trimap[alpha <= 0] = 0
    small = cv2.resize(img, (100, 60), interpolation=cv2.INTER_AREA)
    small_alpha = cv2.resize(alpha, (100, 60), interpolation=cv2.INTER_AREA)
    coef = colour_line_coefficients(small, small_alpha, 1, 1e-5)

    def run():
        up = upsample_alpha(coef, img, trimap, (trimap == 255).astype(np.float32))
        return up, estimate_foreground(img, alpha)

    whole_up, whole_fg = run()
    monkeypatch.setattr(resample, "BLOCK", 7)
    split_up, split_fg = run()
    assert np.array_equal(whole_up, split_up)
    assert np.array_equal(whole_fg, split_fg)
    assert 0.05 < whole_up[trimap == 128].mean() < 0.95  # the band was really filled


def test_upsampling_evaluates_every_unknown_pixel_whatever_blocks_it_falls_in():
    """The band is evaluated only in blocks that hold unknown pixels: scattered unknowns (block
    corners, lone pixels, the last row and column) get exactly the value one evaluation over
    the whole frame gives, and known pixels keep theirs."""
    rng = np.random.default_rng(5)
    h, w = 301, 517  # not multiples of the block
    img = rng.random((h, w, 3), dtype=np.float32)
    coef = rng.normal(0, 0.5, (40, 70, 4)).astype(np.float32)
    trimap = np.where(rng.random((h, w)) < 0.5, 0, 255).astype(np.uint8)
    b = multiscale.BAND_BLOCK
    spots = [(0, 0), (b - 1, b - 1), (b, b), (h - 1, w - 1), (h - 1, 0), (0, w - 1), (150, 260)]
    for y, x in spots:
        trimap[y, x] = 128
    trimap[200:203, 3 * b - 2:3 * b + 2] = 128  # across a block edge
    known = (trimap == 255).astype(np.float32)
    got = upsample_alpha(coef, img, trimap, known.copy())
    # reference: the colour-line model evaluated over the whole frame in one remap
    sy, sx = coef.shape[0] / h, coef.shape[1] / w
    ys = (np.arange(h, dtype=np.float32) + 0.5) * np.float32(sy) - np.float32(0.5)
    xs = (np.arange(w, dtype=np.float32) + 0.5) * np.float32(sx) - np.float32(0.5)
    c = remap_separable(coef, ys, xs)
    want = c[:, :, 3] + c[:, :, 0] * img[:, :, 0] + c[:, :, 1] * img[:, :, 1] \
        + c[:, :, 2] * img[:, :, 2]
    unknown = trimap == 128
    assert np.array_equal(got[unknown], np.clip(want, 0, 1)[unknown])
    assert np.array_equal(got[~unknown], known[~unknown])


def test_runs_cover_the_blocks_that_hold_a_true_and_nothing_else():
    columns = np.zeros(1000, bool)
    columns[[5, 130, 139, 600, 999]] = True
    assert multiscale._runs(columns, 128) == [(5, 140), (600, 601), (999, 1000)]
    assert multiscale._runs(np.zeros(10, bool), 128) == []
    assert multiscale._runs(np.ones(10, bool), 128) == [(0, 10)]
