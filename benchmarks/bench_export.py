"""What each output format costs: encoding a finished cut-out (foreground colours + alpha of an
alphamatting photo upscaled to camera size) as PNG (the baseline, our own writer), TIFF 8 / 16
bit, lossless WebP and JPEG on white, and placing it on a 2000 × 2000 canvas.

Usage: ``python benchmarks/bench_export.py [--data DIR] [--image GT01] [--sizes 12 24]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_triplet  # noqa: E402

from matting_studio.core.canvas import CanvasSpec  # noqa: E402
from matting_studio.core.executor import set_thread_budget, thread_budget  # noqa: E402
from matting_studio.core.export import (  # noqa: E402
    OUTPUT_FORMATS,
    ExportOptions,
    encode_rendered,
    render_cutout,
)

CASES = [
    ("PNG 8-bit (baseline)", "PNG", 8, ExportOptions()),
    ("PNG 16-bit", "PNG", 16, ExportOptions()),
    ("TIFF 8-bit", "TIFF", 8, ExportOptions()),
    ("TIFF 16-bit", "TIFF", 16, ExportOptions()),
    ("WebP lossless", "WEBP", 8, ExportOptions()),
    ("JPEG on white", "JPEG", 8, ExportOptions()),
    ("JPEG, 2000×2000 canvas", "JPEG", 8, ExportOptions(canvas=CanvasSpec(2000, 2000))),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="folder with alphamatting/ (default ../shared/data)")
    ap.add_argument("--image", default="GT01")
    ap.add_argument("--sizes", type=float, nargs="+", default=[12.0, 24.0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    set_thread_budget(args.threads)
    t = load_triplet(args.image, args.data)
    print(f"{args.image}, threads {thread_budget()}, best of {args.repeat}\n")
    print("| MP | output | encode s | vs PNG 8-bit | MB |")
    print("|---|---|---|---|---|")
    for mp in args.sizes:
        h0, w0 = t.gt.shape
        f = (mp * 1e6 / (h0 * w0)) ** 0.5
        size = (round(w0 * f), round(h0 * f))
        alpha = np.clip(cv2.resize(t.gt, size, interpolation=cv2.INTER_CUBIC) / 255.0, 0, 1)
        fg = np.clip(cv2.resize(t.image, size, interpolation=cv2.INTER_CUBIC) / 255.0, 0, 1)
        alpha, fg = alpha.astype(np.float32), fg.astype(np.float32)
        base = None
        for label, fmt_name, bits, options in CASES:
            fmt = OUTPUT_FORMATS[fmt_name]
            best, data = float("inf"), b""
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                data = encode_rendered(render_cutout(fg, alpha, fmt, options, bits), fmt)
                best = min(best, time.perf_counter() - t0)
            base = best if base is None else base
            print(f"| {alpha.size / 1e6:.1f} | {label} | {best:.2f} | {best / base:.1f}× | "
                  f"{len(data) / 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()
