"""Alpha quality on the alphamatting.com training set (27 images with ground-truth alpha).

Two parts, both measured in the same run as their baselines:

1. **Trimap matting** (user trimaps ``trimap1`` and ``trimap2``): for every backend the L2 error
   over the trimap's unknown pixels, ``sqrt(sum((alpha - gt)^2))`` with alpha and gt in 0..1
   (pymatting's published metric), SAD over the whole image (``sum|alpha - gt| / 1000``), MSE
   over the unknown pixels and seconds per image. Two rows re-run pymatting's own protocol
   (``calculate_laplacian_error.py``: ``make_linear_system`` with λ = 100, ichol / Jacobi
   preconditioner, ``atol = 1e-7 · #known``) so they can be checked against
   ``published_pymatting_errors_trimap1.csv``: if they do not land within 1 % of the published
   means, the harness is wrong.
2. **Automatic pipeline** (image only → alpha): SAD and MSE over the whole image, mean and
   median, for our default pipeline (``run_cutout`` with default ``PipelineSettings``, exactly
   what ``matting-studio cutout IN`` does), the raw u2netp mask, the seed pipeline (classic
   7×7×3 trimap + closed form) and a rembg-style baseline: u2netp mask as 8-bit, foreground
   > 240 and background < 10, each eroded with a 10×10 square (``scipy.ndimage.binary_erosion``,
   background with ``border_value=1``), then pymatting's ``estimate_alpha_cf`` — a
   reimplementation of rembg's ``alpha_matting_cutout`` (rembg itself is not imported).

Usage::

    python benchmarks/bench_quality.py                       # everything (slow: ~1 h on 2 cores)
    python benchmarks/bench_quality.py --images GT01,GT02 --backends cf,ifm --skip-auto
    python benchmarks/bench_quality.py --data DIR --csv out.csv

``--data`` must hold ``input/``, ``gt/`` and ``trimap1/`` / ``trimap2/`` with the same file
names (and optionally ``published_pymatting_errors_trimap1.csv``).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_DATA = REPO.parent / "shared" / "data" / "alphamatting"
PYMATTING_ROWS = {"pymatting-cf": "cf_laplacian", "pymatting-knn": "knn_laplacian"}
AUTO_METHODS = ["mask", "rembg-style", "seed", "default"]


# ---------------------------------------------------------------------------- data

def load_rgb(path: Path) -> np.ndarray:
    from pymatting import load_image

    return np.asarray(load_image(str(path), "RGB"), np.float64)


def load_gray(path: Path) -> np.ndarray:
    from pymatting import load_image

    return np.asarray(load_image(str(path), "GRAY"), np.float64)


def trimap_u8(tri: np.ndarray) -> np.ndarray:
    """0..1 grey trimap → uint8 0/128/255 with pymatting's 0.1 / 0.9 split."""
    out = np.full(tri.shape, 128, np.uint8)
    out[tri <= 0.1] = 0
    out[tri >= 0.9] = 255
    return out


def read_published(data: Path) -> dict[str, dict[str, float]]:
    path = data / "published_pymatting_errors_trimap1.csv"
    if not path.is_file():
        return {}
    out: dict[str, dict[str, float]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out[row["image"]] = {k: float(v) for k, v in row.items() if k != "image"}
    return out


# ---------------------------------------------------------------------------- metrics

def metrics(alpha: np.ndarray, gt: np.ndarray, unknown: np.ndarray | None) -> dict[str, float]:
    d = np.asarray(alpha, np.float64) - gt
    out = {"sad": float(np.abs(d).sum() / 1000.0)}
    if unknown is not None:
        du = d[unknown]
        out["l2"] = float(np.sqrt((du ** 2).sum()))
        out["mse"] = float((du ** 2).mean()) if du.size else 0.0
    else:
        out["mse"] = float((d ** 2).mean())
    return out


# ---------------------------------------------------------------------------- methods

def pymatting_protocol(image: np.ndarray, tri: np.ndarray, laplacian: str) -> np.ndarray:
    """pymatting's benchmarks/calculate_laplacian_error.py, as published."""
    from pymatting import cg, ichol, jacobi, make_linear_system, trimap_split
    from pymatting.laplacian.cf_laplacian import cf_laplacian
    from pymatting.laplacian.knn_laplacian import knn_laplacian

    _, _, is_known, _ = trimap_split(tri, flatten=False)
    lap = {"cf_laplacian": cf_laplacian, "knn_laplacian": knn_laplacian}[laplacian]
    pre = {"cf_laplacian": ichol, "knn_laplacian": jacobi}[laplacian]
    A, b = make_linear_system(lap(image), tri)
    x = cg(A, b, M=pre(A), atol=1e-7 * np.sum(is_known))
    return np.clip(x, 0, 1).reshape(tri.shape)


def run_backend(name: str, image: np.ndarray, tri: np.ndarray) -> np.ndarray:
    if name in PYMATTING_ROWS:
        return pymatting_protocol(image, tri, PYMATTING_ROWS[name])
    from matting_studio.core.matting import solve_alpha

    return solve_alpha(image, trimap_u8(tri), name)


def rembg_style(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """rembg's alpha_matting_cutout(fg 240, bg 10, erode 10) on our u2netp mask."""
    from pymatting import estimate_alpha_cf
    from scipy.ndimage import binary_erosion

    m = np.clip(np.rint(mask * 255.0), 0, 255).astype(np.uint8)
    structure = np.ones((10, 10), np.uint8)
    is_fg = binary_erosion(m > 240, structure=structure)
    is_bg = binary_erosion(m < 10, structure=structure, border_value=1)
    tri = np.full(m.shape, 128, np.uint8)
    tri[is_fg] = 255
    tri[is_bg] = 0
    if not is_fg.any() or not is_bg.any():
        return m.astype(np.float64) / 255.0
    return np.asarray(estimate_alpha_cf(image, tri / 255.0), np.float64)


def auto_alpha(method: str, path: Path, cache: dict, model: str | None = None) -> np.ndarray:
    from matting_studio.core.io import load_image
    from matting_studio.core.matting import solve_alpha
    from matting_studio.core.pipeline import PipelineSettings, run_cutout
    from matting_studio.core.segmentation import get_model
    from matting_studio.core.trimap import make_trimap

    img = load_image(path)
    if method == "default":
        return run_cutout(img, PipelineSettings(model_path=model)).alpha
    if "mask" not in cache:  # one model run per image; its time is added to every row using it
        t0 = time.perf_counter()
        cache["mask"] = get_model(model).predict(img.rgb)
        cache["mask_time"] = time.perf_counter() - t0
    mask = cache["mask"]
    if method == "mask":
        return mask
    if method == "seed":
        return solve_alpha(img.rgb, make_trimap(mask), "cf")
    if method == "rembg-style":
        return rembg_style(np.asarray(img.rgb, np.float64), mask)
    raise ValueError(method)


# ---------------------------------------------------------------------------- tables

def fmt_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def trimap_tables(results, images, backends, trimap, published) -> str:
    out = [f"\n### Trimap matting, {trimap}: L2 over unknown pixels per image\n"]
    pub_cols = [c for c in ("cf_laplacian", "knn_laplacian") if published and trimap == "trimap1"]
    header = ["image"] + backends + [f"published {c.split('_')[0]}" for c in pub_cols]
    rows = []
    for im in images:
        r = [im] + [f"{results[(trimap, b, im)]['l2']:.2f}" for b in backends]
        r += [f"{published[im][c]:.2f}" if im in published else "-" for c in pub_cols]
        rows.append(r)
    out.append(fmt_table(header, rows))
    out.append(f"\n### Trimap matting, {trimap}: summary over {len(images)} images\n")
    header = ["backend", "mean L2", "median L2", "mean SAD", "mean MSE(unknown)×1e3",
              "s/image", "vs published mean"]
    rows = []
    for b in backends:
        rs = [results[(trimap, b, im)] for im in images]
        l2 = [r["l2"] for r in rs]
        note = "-"
        col = PYMATTING_ROWS.get(b) or {"cf": "cf_laplacian", "knn": "knn_laplacian"}.get(b)
        if col and trimap == "trimap1" and published and all(im in published for im in images):
            pm = statistics.mean(published[im][col] for im in images)
            note = f"{pm:.2f} ({(statistics.mean(l2) / pm - 1) * 100:+.1f} %)"
        rows.append([b, f"{statistics.mean(l2):.2f}", f"{statistics.median(l2):.2f}",
                     f"{statistics.mean(r['sad'] for r in rs):.2f}",
                     f"{statistics.mean(r['mse'] for r in rs) * 1e3:.2f}",
                     f"{statistics.mean(r['time'] for r in rs):.2f}", note])
    out.append(fmt_table(header, rows))
    return "\n".join(out)


def auto_tables(results, images, methods) -> str:
    out = ["\n### Automatic pipeline (image only): SAD over the whole image per image\n"]
    rows = [[im] + [f"{results[('auto', m, im)]['sad']:.2f}" for m in methods] for im in images]
    header = ["image"] + methods
    worse = []
    if "mask" in methods and "default" in methods:  # issue 17's bar: never worse than the mask
        worse = [im for im in images
                 if results[("auto", "default", im)]["sad"] > results[("auto", "mask", im)]["sad"]]
        header.append("default vs mask")
        for im, r in zip(images, rows):
            r.append("worse" if im in worse else "-")
    out.append(fmt_table(header, rows))
    if "mask" in methods and "default" in methods:
        out.append(f"\ndefault worse than the raw mask on {len(worse)} of {len(images)} images"
                   + (f": {', '.join(worse)}" if worse else ""))
    out.append(f"\n### Automatic pipeline: summary over {len(images)} images "
               "(SAD = sum|α−gt|/1000, MSE over the whole image)\n")
    base = None
    if "rembg-style" in methods:
        base = statistics.mean(results[("auto", "rembg-style", im)]["sad"] for im in images)
    rows = []
    for m in methods:
        rs = [results[("auto", m, im)] for im in images]
        sad = [r["sad"] for r in rs]
        rel = f"{(statistics.mean(sad) / base - 1) * 100:+.1f} %" if base else "-"
        rows.append([m, f"{statistics.mean(sad):.2f}", f"{statistics.median(sad):.2f}",
                     f"{statistics.mean(r['mse'] for r in rs) * 1e3:.2f}",
                     f"{statistics.median(r['mse'] for r in rs) * 1e3:.2f}",
                     f"{statistics.mean(r['time'] for r in rs):.2f}", rel])
    out.append(fmt_table(["method", "mean SAD", "median SAD", "mean MSE×1e3",
                          "median MSE×1e3", "s/image", "mean SAD vs rembg-style"], rows))
    return "\n".join(out)


def library_versions() -> str:
    """The versions the automatic pipeline's numbers depend on: a fresh install's OpenCV
    resizes the model's input slightly differently, and GrabCut (ADR 0017) turns a change of a
    few hundredths in the mask into a different trimap on some photos."""
    import cv2
    import onnxruntime

    return f"OpenCV {cv2.__version__}, onnxruntime {onnxruntime.__version__}"


# ---------------------------------------------------------------------------- main

def print_from_csv(paths: list[Path], published: dict) -> int:
    """Tables from saved per-image rows (several partial runs may be merged)."""
    results: dict[tuple[str, str, str], dict[str, float]] = {}
    order: dict[str, list[str]] = {}
    images: dict[str, list[str]] = {}
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                part, m, im = row["part"], row["method"], row["image"]
                results[(part, m, im)] = {"l2": float(row["l2_unknown"]), "sad": float(row["sad"]),
                                          "mse": float(row["mse"]), "time": float(row["seconds"])}
                if m not in order.setdefault(part, []):
                    order[part].append(m)
                if im not in images.setdefault(part, []):
                    images[part].append(im)
    for part, methods in order.items():
        ims = sorted(images[part])
        keep = [m for m in methods if all((part, m, im) in results for im in ims)]
        dropped = [m for m in methods if m not in keep]
        if dropped:
            print(f"\n({part}: {', '.join(dropped)} left out, not measured on every image)")
        if part == "auto":
            print(auto_tables(results, ims, keep))
        else:
            print(trimap_tables(results, ims, keep, part, published))
    return 0


def main(argv: list[str] | None = None) -> int:
    from matting_studio.core.matting import DEFAULT_BACKEND, backend_names

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="dataset folder")
    p.add_argument("--images", help="comma-separated names (default: all in input/)")
    p.add_argument("--backends", help="comma-separated backends (default: pymatting-cf, "
                   "pymatting-knn and every registered backend)")
    p.add_argument("--trimaps", default="trimap1,trimap2", help="trimap folders to use")
    p.add_argument("--auto-methods", default=",".join(AUTO_METHODS),
                   help=f"automatic-pipeline rows (default: {','.join(AUTO_METHODS)})")
    p.add_argument("--model", metavar="NAME|PATH", help="segmentation model of the automatic "
                   "pipeline: a catalogue name or an ONNX file (default: the embedded u2netp)")
    p.add_argument("--skip-trimap", action="store_true", help="only the automatic pipeline")
    p.add_argument("--skip-auto", action="store_true", help="only trimap matting")
    p.add_argument("--csv", type=Path, default=Path("bench_quality.csv"), help="per-image CSV")
    p.add_argument("--from-csv", type=Path, nargs="+", metavar="CSV",
                   help="measure nothing: print the tables of earlier runs' CSV files (merged)")
    args = p.parse_args(argv)
    if args.from_csv:
        return print_from_csv(args.from_csv, read_published(args.data))

    data: Path = args.data
    if not (data / "input").is_dir() or not (data / "gt").is_dir():
        p.error(f"{data}: expected input/ and gt/ folders")
    images = ([s.strip() for s in args.images.split(",") if s.strip()] if args.images else
              sorted(f.stem for f in (data / "input").glob("*.png")))
    backends = (args.backends.split(",") if args.backends else
                list(PYMATTING_ROWS) + backend_names())
    for b in backends:
        if b not in PYMATTING_ROWS and b not in backend_names():
            p.error(f"unknown backend {b!r}")
    trimaps = [t for t in args.trimaps.split(",") if t and (data / t).is_dir()]
    methods = [m for m in args.auto_methods.split(",") if m]
    published = read_published(data)
    print(f"data {data}, {len(images)} images, default backend {DEFAULT_BACKEND}, "
          f"model {args.model or 'u2netp (embedded)'}, {library_versions()}", flush=True)

    results: dict[tuple[str, str, str], dict[str, float]] = {}
    with open(args.csv, "w", newline="") as fcsv:
        writer = csv.writer(fcsv)
        writer.writerow(["part", "method", "image", "l2_unknown", "sad", "mse", "seconds"])

        def record(part: str, method: str, im: str, r: dict) -> None:
            results[(part, method, im)] = r
            writer.writerow([part, method, im, f"{r.get('l2', float('nan')):.4f}",
                             f"{r['sad']:.4f}", f"{r['mse']:.6f}", f"{r['time']:.3f}"])
            fcsv.flush()
            print(f"  {part:8s} {method:14s} {im}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in r.items()), flush=True)

        if not args.skip_trimap:
            for trimap in trimaps:
                for im in images:
                    image = load_rgb(data / "input" / f"{im}.png")
                    tri = load_gray(data / trimap / f"{im}.png")
                    gt = load_gray(data / "gt" / f"{im}.png")
                    unknown = (tri > 0.1) & (tri < 0.9)
                    for b in backends:
                        t0 = time.perf_counter()
                        alpha = run_backend(b, image, tri)
                        r = metrics(alpha, gt, unknown)
                        r["time"] = time.perf_counter() - t0
                        record(trimap, b, im, r)
        if not args.skip_auto:
            for im in images:
                gt = load_gray(data / "gt" / f"{im}.png")
                cache: dict = {}
                for m in methods:
                    t0 = time.perf_counter()
                    had_mask = "mask" in cache
                    alpha = auto_alpha(m, data / "input" / f"{im}.png", cache, args.model)
                    r = metrics(alpha, gt, None)
                    r["time"] = time.perf_counter() - t0
                    if had_mask and m != "default":
                        r["time"] += cache["mask_time"]
                    record("auto", m, im, r)

    if not args.skip_trimap:
        for trimap in trimaps:
            print(trimap_tables(results, images, backends, trimap, published))
    if not args.skip_auto:
        print(auto_tables(results, images, methods))
    print(f"\nper-image results: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
