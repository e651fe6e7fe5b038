"""What the edge adjustments (core/edges.py) cost at camera sizes: the tiled version against the
whole-matte baseline, measured in the same run, and the foreground colours that follow.

The matte is an alphamatting ground truth (hair / fur) upscaled to 12 and 24 MP. Times are the
best of ``--repeat`` runs. Usage: ``python benchmarks/bench_edges.py [--data DIR]
[--image GT01] [--sizes 12 24] [--threads N]``.
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

from matting_studio.core.edges import EdgeParams, adjust_edges, adjust_edges_whole  # noqa: E402
from matting_studio.core.executor import set_thread_budget, thread_budget  # noqa: E402
from matting_studio.core.foreground import estimate_foreground  # noqa: E402

SETTINGS = {
    "feather 4": EdgeParams(feather=4.0),
    "feather 40": EdgeParams(feather=40.0),
    "smooth 5": EdgeParams(smooth=5.0),
    "contrast 50": EdgeParams(contrast=50.0),
    "shift +10": EdgeParams(shift=10),
    "shift -30": EdgeParams(shift=-30),
    "all four": EdgeParams(smooth=3.0, feather=4.0, contrast=30.0, shift=-2),
}


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="folder with alphamatting/ (default ../shared/data)")
    ap.add_argument("--image", default="GT01")
    ap.add_argument("--sizes", type=float, nargs="+", default=[12.0, 24.0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    set_thread_budget(args.threads)
    t = load_triplet(args.image, args.data)
    print(f"{args.image}, threads {thread_budget()}, best of {args.repeat}\n")
    print("| MP | setting | whole matte ms (baseline) | tiled ms | speed-up | max diff | "
          "+ foreground ms |")
    print("|---|---|---|---|---|---|---|")
    for mp in args.sizes:
        h0, w0 = t.gt.shape
        f = (mp * 1e6 / (h0 * w0)) ** 0.5
        size = (round(w0 * f), round(h0 * f))
        alpha = cv2.resize(t.gt, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
        np.clip(alpha, 0, 1, out=alpha)
        rgb = cv2.resize(t.image, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
        np.clip(rgb, 0, 1, out=rgb)
        for name, params in SETTINGS.items():
            whole = best(lambda p=params: adjust_edges_whole(alpha, p), args.repeat)
            tiled = best(lambda p=params: adjust_edges(alpha, p), args.repeat)
            diff = float(np.abs(adjust_edges(alpha, params)
                                - adjust_edges_whole(alpha, params)).max())
            adjusted = adjust_edges(alpha, params)
            fg = best(lambda a=adjusted: estimate_foreground(rgb, a), 1)
            print(f"| {alpha.size / 1e6:.1f} | {name} | {whole * 1e3:.0f} | {tiled * 1e3:.0f} | "
                  f"{whole / tiled:.1f}× | {diff:.1e} | {fg * 1e3:.0f} |", flush=True)


if __name__ == "__main__":
    main()
