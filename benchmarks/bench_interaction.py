"""Stroke-to-preview latency on a 12 MP photo: region re-solve vs a full re-solve.

Replays a fixed list of strokes (seeded, along the unknown band of the upscaled alphamatting
trimap). For each stroke the timed work is what the GUI does before it can paint: update the
trimap inside the stroke's box, :func:`resolve_region` (stroke box + margin, at preview size
when large), paste the patch into the alpha. The baseline, measured in the same run, is
:func:`solve_alpha` over the whole image after a stroke (the full-resolution refine that
follows in the background). Usage:

    python benchmarks/bench_interaction.py [--mp 12] [--strokes 40] [--image GT01] [--data DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_table, load_triplet, upscale

from matting_studio.core.matting import solve_alpha
from matting_studio.core.matting.interactive import resolve_region, stroke_bounds
from matting_studio.core.trimap import Stroke, draw_stroke


def make_strokes(trimap: np.ndarray, n: int, seed: int = 0) -> list[Stroke]:
    """``n`` short strokes starting on unknown pixels, alternating foreground / background."""
    rng = np.random.default_rng(seed)
    h, w = trimap.shape
    radius = max(4.0, 0.006 * max(h, w))  # ~25 px brush at 12 MP
    ys, xs = np.nonzero(trimap[::7, ::7] == 128)
    strokes = []
    for i in range(n):
        k = rng.integers(len(ys))
        x, y = float(xs[k] * 7), float(ys[k] * 7)
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(4, 10) * radius
        pts = [(x + t * length * np.cos(angle), y + t * length * np.sin(angle))
               for t in np.linspace(0, 1, 6)]
        pts = [(min(max(px, 0.0), w - 1.0), min(max(py, 0.0), h - 1.0)) for px, py in pts]
        strokes.append(Stroke("foreground" if i % 2 == 0 else "background", radius, tuple(pts)))
    return strokes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mp", type=float, default=12.0)
    p.add_argument("--strokes", type=int, default=40)
    p.add_argument("--image", default="GT01")
    p.add_argument("--trimap", default="trimap1")
    p.add_argument("--data", help="folder holding alphamatting/ (default ../shared/data)")
    p.add_argument("--matting", default="cf", help="backend (cf or the default ifm, ...)")
    args = p.parse_args(argv)

    t = upscale(load_triplet(args.image, args.data, args.trimap), args.mp)
    image = t.image.astype(np.float32) / 255.0
    trimap = t.trimap.copy()
    h, w = trimap.shape
    print(f"{args.image} at {w}×{h} ({w * h / 1e6:.1f} MP), backend {args.matting}",
          file=sys.stderr)

    t0 = time.perf_counter()
    alpha = solve_alpha(image, trimap, args.matting)
    first = time.perf_counter() - t0

    strokes = make_strokes(trimap, args.strokes)
    latencies = []
    for s in strokes:
        t0 = time.perf_counter()
        bounds = stroke_bounds(s.points, s.radius, (h, w))
        y0, y1, x0, x1 = bounds
        view = trimap[y0:y1, x0:x1]  # paint only inside the stroke's box
        shifted = Stroke(s.mode, s.radius, tuple((px - x0, py - y0) for px, py in s.points))
        draw_stroke(view, shifted)
        res = resolve_region(image, trimap, alpha, bounds, backend=args.matting)
        res.paste(alpha)
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    solve_alpha(image, trimap, args.matting)
    full = time.perf_counter() - t0

    ms = np.array(latencies) * 1000
    p50, p95 = np.percentile(ms, [50, 95])
    header = ["MP", "strokes", "preview p50 ms", "preview p95 ms", "preview max ms",
              "full re-solve ms (baseline)", "p95 speed-up"]
    rows = [[f"{w * h / 1e6:.1f}", str(len(strokes)), f"{p50:.0f}", f"{p95:.0f}",
             f"{ms.max():.0f}", f"{full * 1000:.0f}", f"{full * 1000 / p95:.0f}×"]]
    print(f"\nfirst full solve {first:.1f} s; brush radius {strokes[0].radius:.0f} px\n")
    print(fmt_table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
