"""Quality on photos outside the alphamatting set: a check that what helps there does not hurt
elsewhere.

The alphamatting images guide every parameter of the matting and the automatic trimap, so
this benchmark measures them on other photos: scikit-image's public-domain astronaut, cat
(chelsea) and coffee photos, composited one over another through alpha mattes drawn here
(a silhouette — scikit-image's horse — or a disc, with blurred edges, a motion-blurred side
and a fringe of thin hair-like strands). The ground truth is the alpha drawn; the trimap is
derived from it (unknown: every fractional pixel, grown by 6 px). Two tables, like
``bench_quality.py``:

1. **Trimap matting**: L2 over the unknown pixels (√Σ(α − gt)²) and SAD over the whole image
   (Σ|α − gt| / 1000) for our default backend and pymatting's closed-form
   (``estimate_alpha_cf``; skipped without pymatting).
2. **Automatic pipeline** (composite only → alpha): SAD of the raw model mask (one view) and of
   ``run_cutout`` with default settings; "worse" marks a matte worse than the mask.

Usage::

    python benchmarks/bench_outside.py [--size 480] [--csv out.csv]

Only public entry points are used (``solve_alpha``, ``run_cutout``), so the same script
measures an older checkout for comparison.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# (foreground photo, background photo, alpha shape)
COMPOSITES = [
    ("chelsea", "coffee", "horse"),
    ("astronaut", "chelsea", "disc"),
    ("coffee", "astronaut", "horse"),
    ("chelsea", "astronaut", "disc"),
    ("astronaut", "coffee", "horse"),
    ("coffee", "chelsea", "disc"),
]


def photo(name: str, size: int) -> np.ndarray:
    from skimage import data

    rgb = getattr(data, name)().astype(np.float32) / 255.0
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)


def alpha_shape(kind: str, size: int, seed: int) -> np.ndarray:
    """A drawn matte (float64 (size, size) 0..1): a solid subject with a blurred edge, one
    motion-blurred side and a fringe of anti-aliased strands of partial opacity."""
    rng = np.random.default_rng(seed)
    up = 4  # strands are drawn at 4× and averaged down: partial coverage = fractional alpha
    big = size * up
    canvas = np.zeros((big, big), np.float32)
    if kind == "horse":
        from skimage import data

        horse = (~data.horse()).astype(np.float32)
        h, w = horse.shape
        s = 0.8 * big / max(h, w)
        horse = cv2.resize(horse, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        y0, x0 = (big - horse.shape[0]) // 2 + big // 16, (big - horse.shape[1]) // 2
        canvas[y0:y0 + horse.shape[0], x0:x0 + horse.shape[1]] = horse
    else:
        cv2.circle(canvas, (big // 2, big // 2 + big // 12), int(0.3 * big), 1.0, -1)
    solid = canvas > 0.5
    # strands: from boundary points outward, slightly curved, 1–2 px wide at 4×
    edge = cv2.morphologyEx(solid.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3)))
    ys, xs = np.nonzero(edge)
    cy, cx = ys.mean(), xs.mean()
    top = ys < np.quantile(ys, 0.5)  # a fringe on the upper half
    pick = rng.choice(np.flatnonzero(top), size=min(220, int(top.sum())), replace=False)
    strands = np.zeros_like(canvas)
    for i in pick:
        y, x = float(ys[i]), float(xs[i])
        d = np.array([y - cy, x - cx])
        d /= np.linalg.norm(d) + 1e-9
        length = rng.uniform(0.04, 0.1) * big
        bend = rng.normal(0, 0.3)
        pts = []
        for t in np.linspace(0, 1, 12):
            ang = bend * t
            dy = d[0] * np.cos(ang) - d[1] * np.sin(ang)
            dx = d[0] * np.sin(ang) + d[1] * np.cos(ang)
            pts.append((x + dx * length * t, y + dy * length * t))
        cv2.polylines(strands, [np.round(np.array(pts)).astype(np.int32)], False,
                      float(rng.uniform(0.6, 1.0)), thickness=int(rng.integers(1, 3)))
    canvas = np.maximum(canvas, strands)
    alpha = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    # blurred lower edge (defocus) and a motion-blurred right side
    lower = np.zeros_like(alpha)
    lower[size // 2:] = 1.0
    soft = cv2.GaussianBlur(alpha, (0, 0), 1.5)
    alpha = np.where(lower > 0, np.maximum(soft, alpha * (alpha >= 0.999)), alpha)
    right = np.zeros_like(alpha)
    right[:, 2 * size // 3:] = 1.0
    motion = cv2.filter2D(alpha, -1, np.ones((1, 15), np.float32) / 15)
    alpha = np.where(right > 0, motion, alpha).astype(np.float64)
    alpha[alpha > 0.998] = 1.0  # float32 rounding of the filters is no transparency
    alpha[alpha < 0.002] = 0.0
    return np.clip(alpha, 0.0, 1.0)


def trimap_of(alpha: np.ndarray, grow: int = 6) -> np.ndarray:
    frac = ((alpha > 0.0) & (alpha < 1.0)).astype(np.uint8)
    unknown = cv2.dilate(frac, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
    tri = np.where(alpha >= 1.0, 255, 0).astype(np.uint8)
    tri[unknown] = 128
    return tri


def composite(fg: str, bg: str, shape: str, size: int, seed: int):
    a = alpha_shape(shape, size, seed)
    image = a[..., None] * photo(fg, size) + (1 - a[..., None]) * photo(bg, size)
    return np.clip(image, 0, 1), a


def l2(alpha, gt, tri) -> float:
    u = tri == 128
    return float(np.sqrt(((np.asarray(alpha, np.float64)[u] - gt[u]) ** 2).sum()))


def sad(alpha, gt) -> float:
    return float(np.abs(np.asarray(alpha, np.float64) - gt).sum() / 1000.0)


def load(path: Path):
    try:
        from matting_studio.core.io import load_image
    except ImportError:  # older checkouts
        from matting_studio.core.image_io import load_image
    return load_image(path)


def fmt_table(header, rows) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def main(argv=None) -> int:
    from matting_studio.core.matting import DEFAULT_BACKEND, solve_alpha
    from matting_studio.core.pipeline import PipelineSettings, run_cutout
    from matting_studio.core.segmentation import get_model

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=480, help="side of the square composites (px)")
    p.add_argument("--csv", type=Path, default=Path("bench_outside.csv"), help="per-image CSV")
    args = p.parse_args(argv)
    try:
        from pymatting import estimate_alpha_cf
    except ImportError:
        estimate_alpha_cf = None

    tri_rows, auto_rows, records = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (fg, bg, shape) in enumerate(COMPOSITES):
            name = f"{fg}/{bg}/{shape}"
            image, gt = composite(fg, bg, shape, args.size, seed=k)
            tri = trimap_of(gt)
            t0 = time.perf_counter()
            ours = solve_alpha(image, tri, DEFAULT_BACKEND)
            t_ours = time.perf_counter() - t0
            row = [name, f"{(tri == 128).mean() * 100:.0f} %", f"{l2(ours, gt, tri):.2f}",
                   f"{sad(ours, gt):.2f}"]
            rec = {"composite": name, "l2_ours": l2(ours, gt, tri), "sad_ours": sad(ours, gt),
                   "seconds_ours": t_ours}
            if estimate_alpha_cf is not None:
                cf = np.clip(estimate_alpha_cf(image, tri / 255.0), 0, 1)
                row += [f"{l2(cf, gt, tri):.2f}", f"{sad(cf, gt):.2f}"]
                rec.update(l2_cf=l2(cf, gt, tri), sad_cf=sad(cf, gt))
            tri_rows.append(row)
            # the automatic pipeline sees the composite as a photo file
            path = Path(tmp) / f"c{k}.png"
            cv2.imwrite(str(path), np.rint(image[:, :, ::-1] * 255).astype(np.uint8))
            img = load(path)
            mask = get_model().predict(img.rgb)
            t0 = time.perf_counter()
            auto = run_cutout(img, PipelineSettings()).alpha
            t_auto = time.perf_counter() - t0
            s_mask, s_auto = sad(mask, gt), sad(auto, gt)
            auto_rows.append([name, f"{s_mask:.2f}", f"{s_auto:.2f}",
                              "worse" if s_auto > s_mask else "-"])
            rec.update(sad_mask=s_mask, sad_auto=s_auto, seconds_auto=t_auto)
            records.append(rec)
            print(f"  {name}: " + ", ".join(f"{k2} {v:.3f}" for k2, v in rec.items()
                                            if k2 != "composite"), flush=True)
    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(records[0]))
        w.writeheader()
        w.writerows(records)

    header = ["composite", "unknown", f"{DEFAULT_BACKEND} L2", f"{DEFAULT_BACKEND} SAD"]
    if estimate_alpha_cf is not None:
        header += ["pymatting cf L2", "pymatting cf SAD"]
    mean_row = ["mean", "", f"{statistics.mean(r['l2_ours'] for r in records):.2f}",
                f"{statistics.mean(r['sad_ours'] for r in records):.2f}"]
    if estimate_alpha_cf is not None:
        mean_row += [f"{statistics.mean(r['l2_cf'] for r in records):.2f}",
                     f"{statistics.mean(r['sad_cf'] for r in records):.2f}"]
    print(f"\n### Trimap matting on composites of scikit-image photos ({args.size} px)\n")
    print(fmt_table(header, tri_rows + [mean_row]))
    print("\n### Automatic pipeline on the same composites: SAD over the whole image\n")
    mean_auto = ["mean", f"{statistics.mean(r['sad_mask'] for r in records):.2f}",
                 f"{statistics.mean(r['sad_auto'] for r in records):.2f}", ""]
    print(fmt_table(["composite", "mask", "default", "vs mask"], auto_rows + [mean_auto]))
    print(f"\nper-composite results: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
