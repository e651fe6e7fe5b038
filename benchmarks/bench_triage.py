"""Triage on the alphamatting.com training set: does the score find the bad cut-outs, does the
overlay mark where they are wrong?

For every image the automatic pipeline runs exactly as ``matting-studio cutout IN`` does
(``run_cutout`` with default ``PipelineSettings``; checked bit for bit on the first image), the
true error is the SAD over the whole image (``sum|alpha − gt| / 1000``), and
:func:`matting_studio.core.triage.triage` scores the result from the pipeline's own evidence.

Printed, all measured in the same run:

1. **Score vs true SAD**: Spearman and Kendall rank correlations of the score, of each of its
   three terms alone, of the score without each term, and of baselines from the unknown band
   alone (its share of the image, its mean width = area / boundary length, the number of
   pieces the mask falls into); leave-one-out (the Spearman over the 26 others, for each image
   left out: min and median); the score against the per-pixel error (SAD / pixels) too.
   The weights are fixed (1, 1, 1), not fitted; the sensitivity to the residual's weight is
   printed beside them.
2. **Overlay**: per image and overall, the share of the SAD inside the "check here" overlay and
   the overlay's share of the image area, beside two baselines: the unknown band, and the band
   grown until it covers the overlay's area (the same area budget). A random region of a given
   area holds that area's share of the SAD on average.
3. **Held-out photos** (scikit-image's astronaut, chelsea, coffee, not used for any choice):
   the model's views degraded on purpose (blurred, shifted, a hole, another photo's mask, one
   view shifted), the trimap and alpha re-solved from them, and the score compared with the
   good cut-out's.
4. **Cost**: triage time per photo beside the model's two runs (the evidence), at the
   dataset's size and at 24 MP.

Usage::

    python benchmarks/bench_triage.py                 # all 27 images (~2 min on 2 cores)
    python benchmarks/bench_triage.py --images GT01,GT13 --skip-heldout --data DIR

Needs the test extra (scikit-image for the held-out photos, scipy for the rank correlations).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import alphamatting_dir

from matting_studio.core.auto_trimap import adaptive_trimap
from matting_studio.core.io import load_image
from matting_studio.core.mask_views import model_views, upsample_mask
from matting_studio.core.matting import DEFAULT_BACKEND, solve_alpha
from matting_studio.core.pipeline import PipelineSettings, auto_trimap, run_cutout
from matting_studio.core.segmentation import get_model
from matting_studio.core.solve import SolveRequest, solve
from matting_studio.core.triage import TriageParams, overlay_at, triage

TERMS = ("uncertainty", "disagreement", "residual")


def compute_alpha(img, trimap: np.ndarray, settings: PipelineSettings) -> np.ndarray:
    """The pipeline's alpha for ``trimap`` (the one solve path, without edge colours)."""
    return solve(SolveRequest.of(img, trimap, settings, with_foreground=False)).alpha


def fmt_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def rank_corr(x, y) -> tuple[float, float]:
    from scipy.stats import kendalltau, spearmanr

    return float(spearmanr(x, y)[0]), float(kendalltau(x, y)[0])


def grown_band(band: np.ndarray, area: float) -> np.ndarray:
    """The unknown band grown (by distance) until it covers ``area`` (a share of the image)."""
    if not band.any():
        return band
    dist = cv2.distanceTransform((~band).astype(np.uint8), cv2.DIST_L2, 5)
    if area <= band.mean():
        return band
    return dist <= float(np.quantile(dist, min(1.0, area)))


# ---------------------------------------------------------------------------- measuring

def measure_image(path: Path, gt_path: Path, model, settings: PipelineSettings,
                  check: bool) -> dict:
    """Run the automatic pipeline with its evidence kept, triage it, compare with gt."""
    img = load_image(path)
    t0 = time.perf_counter()
    a, b = model_views(model, img.rgb)
    t_views = time.perf_counter() - t0
    mask = upsample_mask(np.maximum(a, b), img.rgb.shape[:2])  # what model_answers returns
    trimap = auto_trimap(img, mask, settings)
    alpha = compute_alpha(img, trimap, settings)
    if check and not np.array_equal(alpha, run_cutout(img, settings).alpha):
        raise SystemExit(f"{path.name}: the benchmark's pipeline differs from run_cutout")
    t0 = time.perf_counter()
    r = triage(img.rgb, alpha, (a, b))
    t_triage = time.perf_counter() - t0
    gt = cv2.imread(str(gt_path), cv2.IMREAD_GRAYSCALE)
    if gt is None:
        raise SystemExit(f"cannot read {gt_path}")
    err = np.abs(alpha.astype(np.float64) - gt / 255.0)
    band = trimap == 128
    fg = (mask >= settings.adaptive.threshold).astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    boundary = int((cv2.dilate(fg, cross) != cv2.erode(fg, cross)).sum())
    pieces = cv2.connectedComponents(fg)[0] + cv2.connectedComponents(1 - fg)[0] - 2
    ov = overlay_at(r.overlay, alpha.shape)
    grown = grown_band(band, float(ov.mean()))
    total = float(err.sum())
    share = (lambda region: float(err[region].sum()) / total if total > 0 else 0.0)
    return {
        "sad": total / 1000.0, "mae": float(err.mean()), "score": r.score,
        **{t: getattr(r, t) for t in TERMS}, "band": float(band.mean()),
        "band_width": float(band.sum()) / max(boundary, 1) / max(alpha.shape),
        "pieces": float(pieces),
        "ov_sad": share(ov), "ov_area": float(ov.mean()),
        "band_sad": share(band), "grown_sad": share(grown), "grown_area": float(grown.mean()),
        "ov_sad_abs": float(err[ov].sum()), "band_sad_abs": float(err[band].sum()),
        "grown_sad_abs": float(err[grown].sum()),
        "t_views": t_views, "t_triage": t_triage,
    }


def score_tables(res: dict[str, dict], images: list[str]) -> str:
    sad = [res[i]["sad"] for i in images]
    mae = [res[i]["mae"] for i in images]
    col = lambda k: [res[i][k] for i in images]
    candidates = {
        "score (uncertainty + disagreement + residual)": col("score"),
        **{f"{t} alone": col(t) for t in TERMS},
        **{f"score without {t}": [res[i]["score"] - res[i][t] for i in images] for t in TERMS},
        **{f"uncertainty + disagreement + {w}× residual": [
            res[i]["uncertainty"] + res[i]["disagreement"] + w * res[i]["residual"]
            for i in images] for w in (0.5, 2, 4)},
        "baseline: unknown-band share": col("band"),
        "baseline: band area / boundary length": col("band_width"),
        "baseline: pieces of the mask (fg + bg components)": col("pieces"),
    }
    rows = []
    for name, x in candidates.items():
        rho, tau = rank_corr(x, sad)
        loo = [rank_corr(x[:k] + x[k + 1:], sad[:k] + sad[k + 1:])[0]
               for k in range(len(images))] if len(images) > 3 else [float("nan")]
        rows.append([name, f"{rho:+.3f}", f"{tau:+.3f}", f"{min(loo):+.3f}",
                     f"{statistics.median(loo):+.3f}", f"{rank_corr(x, mae)[0]:+.3f}"])
    out = [f"\n### Score vs true SAD, {len(images)} images (bar: Spearman ≥ 0.6)\n",
           fmt_table(["ranking by", "Spearman", "Kendall tau", "LOO min", "LOO median",
                      "Spearman vs SAD/pixel"], rows)]
    return "\n".join(out)


def per_image_table(res: dict[str, dict], images: list[str]) -> str:
    by_sad = {im: k + 1 for k, im in enumerate(sorted(images, key=lambda i: -res[i]["sad"]))}
    by_score = {im: k + 1 for k, im in enumerate(sorted(images, key=lambda i: -res[i]["score"]))}
    rows = []
    for im in sorted(images, key=lambda i: -res[i]["score"]):
        r = res[im]
        rows.append([im, f"{r['sad']:.2f}", str(by_sad[im]), f"{r['score'] * 100:.2f}",
                     str(by_score[im]), *(f"{r[t] * 100:.2f}" for t in TERMS),
                     f"{r['ov_sad'] * 100:.1f}", f"{r['ov_area'] * 100:.1f}",
                     f"{r['band_sad'] * 100:.1f}", f"{r['band'] * 100:.1f}",
                     f"{r['grown_sad'] * 100:.1f}"])
    header = ["image", "true SAD", "rank", "score %", "rank", "uncert. %", "disagr. %",
              "resid. %", "SAD in overlay %", "overlay area %",
              "SAD in band %", "band area %", "SAD in grown band %"]
    return ("\n### Per image, most likely to need a fix first (score and terms in % of the "
            "image; grown band = band grown to the overlay's area)\n\n"
            + fmt_table(header, rows))


def overlay_table(res: dict[str, dict], images: list[str]) -> str:
    total = sum(res[i]["sad"] * 1000 for i in images)
    rows = []
    for name, sad_key, abs_key, area_key in (
            ("check-here overlay", "ov_sad", "ov_sad_abs", "ov_area"),
            ("baseline: unknown band", "band_sad", "band_sad_abs", "band"),
            ("baseline: band grown to the overlay's area", "grown_sad", "grown_sad_abs",
             "grown_area")):
        area = statistics.mean(res[i][area_key] for i in images)
        rows.append([name, f"{statistics.mean(res[i][sad_key] for i in images) * 100:.1f}",
                     f"{statistics.median(res[i][sad_key] for i in images) * 100:.1f}",
                     f"{sum(res[i][abs_key] for i in images) / total * 100:.1f}",
                     f"{area * 100:.1f}"])
    area = statistics.mean(res[i]["ov_area"] for i in images)
    rows.append(["random region of the overlay's area (expected)", f"{area * 100:.1f}",
                 "-", f"{area * 100:.1f}", f"{area * 100:.1f}"])
    out = [f"\n### Overlay: share of the true SAD inside it, {len(images)} images\n",
           fmt_table(["region", "mean per image %", "median per image %",
                      "of the total SAD %", "mean area %"], rows)]
    return "\n".join(out)


# ---------------------------------------------------------------------------- held-out

def _shift(v: np.ndarray, dx: int) -> np.ndarray:
    out = np.zeros_like(v)
    out[:, dx:] = v[:, :-dx]
    return out


def _holed(v: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(v > 0.5)
    out = v.copy()
    if len(ys):
        yy, xx = np.mgrid[:v.shape[0], :v.shape[1]]
        out[np.hypot(yy - ys.mean(), xx - xs.mean()) < 0.15 * v.shape[0]] = 0.0
    return out


def heldout_table(model) -> str:
    from skimage import data

    names = ("astronaut", "chelsea", "coffee")
    photos = {n: getattr(data, n)().astype(np.float32) / 255.0 for n in names}
    views = {n: tuple(np.ascontiguousarray(v) for v in model_views(model, photos[n]))
             for n in names}
    rows, worse, cases = [], 0, 0
    for k, n in enumerate(names):
        rgb, (a, b) = photos[n], views[n]
        shift = a.shape[1] * 3 // 20  # 15 % of the model's width
        degraded = {
            "good (the model's views)": (a, b),
            "blurred (σ 12 px of 320)": tuple(cv2.GaussianBlur(v, (0, 0), 12) for v in (a, b)),
            "shifted 15 % right": (_shift(a, shift), _shift(b, shift)),
            "hole in the subject": (_holed(a), _holed(b)),
            f"{names[(k + 1) % 3]}'s mask": views[names[(k + 1) % 3]],
            "one view shifted": (a, _shift(b, shift)),
        }
        good = None
        for case, (va, vb) in degraded.items():
            mask = upsample_mask(np.maximum(va, vb), rgb.shape[:2])
            alpha = solve_alpha(rgb, adaptive_trimap(mask, rgb), DEFAULT_BACKEND)
            r = triage(rgb, alpha, (va, vb))
            if good is None:
                good, verdict = r.score, "-"
            else:
                cases += 1
                worse += r.score > good
                verdict = "yes" if r.score > good else "**no**"
            rows.append([n, case, f"{r.score * 100:.2f}", *(f"{getattr(r, t) * 100:.2f}"
                         for t in TERMS), f"{r.overlay_share * 100:.1f}", verdict])
    return (f"\n### Held-out photos (scikit-image), degraded on purpose: {worse} of {cases} "
            "degraded cut-outs score worse than the good one\n\n"
            + fmt_table(["photo", "model views", "score %", "uncert. %", "disagr. %",
                         "resid. %", "overlay area %", "scores worse"], rows))


# ---------------------------------------------------------------------------- cost

def cost_table(res: dict[str, dict], images: list[str], path: Path, repeats: int = 5) -> str:
    """Triage time beside the model's two runs, at the dataset's size and at 24 MP."""
    img = load_image(path)
    model = get_model()
    a, b = model_views(model, img.rgb)
    alpha = compute_alpha(img, auto_trimap(img, upsample_mask(np.maximum(a, b),
                                                              img.rgb.shape[:2]),
                                          PipelineSettings()), PipelineSettings())
    h, w = alpha.shape
    s = (24e6 / (h * w)) ** 0.5
    big_size = (round(w * s), round(h * s))
    big_rgb = cv2.resize(img.rgb, big_size, interpolation=cv2.INTER_CUBIC)
    big_alpha = cv2.resize(alpha, big_size, interpolation=cv2.INTER_LINEAR)

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times) * 1000

    rows = [[f"the {len(images)} images above (median)",
             f"{statistics.median(res[i]['t_triage'] for i in images) * 1000:.1f}",
             f"{statistics.median(res[i]['t_views'] for i in images) * 1000:.0f}"]]
    t_small = best(lambda: triage(img.rgb, alpha, (a, b)))
    t_big = best(lambda: triage(big_rgb, big_alpha, (a, b)))
    t_views_big = best(lambda: model_views(model, big_rgb))
    rows.append([f"{path.stem}, {h * w / 1e6:.2f} MP (best of {repeats})", f"{t_small:.1f}", "-"])
    rows.append([f"{path.stem} upscaled to {big_size[0]}×{big_size[1]} (best of {repeats})",
                 f"{t_big:.1f}", f"{t_views_big:.0f}"])
    return ("\n### Cost: triage vs the model's two runs that provide its evidence (ms)\n\n"
            + fmt_table(["photo", "triage ms", "model_views ms (baseline)"], rows))


# ---------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=None,
                   help="alphamatting folder with input/ and gt/ (default ../shared/data)")
    p.add_argument("--images", help="comma-separated names (default: all in input/)")
    p.add_argument("--skip-heldout", action="store_true", help="no scikit-image check")
    p.add_argument("--skip-cost", action="store_true", help="no timing table")
    args = p.parse_args(argv)
    data = alphamatting_dir(args.data)
    if not (data / "input").is_dir() or not (data / "gt").is_dir():
        p.error(f"{data}: expected input/ and gt/ folders (pass --data DIR)")
    images = ([s.strip() for s in args.images.split(",") if s.strip()] if args.images else
              sorted(f.stem for f in (data / "input").glob("*.png")))
    if len(images) < 3:
        p.error("need at least 3 images for a rank correlation")
    settings = PipelineSettings()
    model = get_model(settings.model_path, settings.preset)
    print(f"data {data}, {len(images)} images, automatic pipeline: default PipelineSettings "
          f"(backend {settings.backend}, trimap {settings.trimap_preset}, "
          f"mirror TTA {settings.mask_tta}); triage {TriageParams()}", flush=True)
    res: dict[str, dict] = {}
    for k, im in enumerate(images):
        res[im] = measure_image(data / "input" / f"{im}.png", data / "gt" / f"{im}.png",
                                model, settings, check=(k == 0))
        r = res[im]
        print(f"  {im}: SAD {r['sad']:.2f}, score {r['score'] * 100:.2f} %, "
              f"overlay {r['ov_area'] * 100:.1f} % of the area holds "
              f"{r['ov_sad'] * 100:.1f} % of the SAD", flush=True)
    print(f"  (pipeline check on {images[0]}: alpha identical to run_cutout's)")
    print(per_image_table(res, images))
    print(score_tables(res, images))
    print(overlay_table(res, images))
    if not args.skip_heldout:
        print(heldout_table(model))
    if not args.skip_cost:
        print(cost_table(res, images, data / "input" / f"{images[0]}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
