"""End-to-end editor latency on a large photo, measured through the real (offscreen) window.

Opens an alphamatting image upscaled to ``--mp`` megapixels as a JPEG, then replays a fixed list
of strokes through the editor controller (what a mouse release does) and measures, for each,
the time until the alpha view shows the updated (preview) alpha. The baseline in the same run
is the time until the full-resolution re-solve of the same stroke is on screen.

    python benchmarks/bench_gui_latency.py [--mp 12] [--image GT05] [--strokes 20] [--data DIR]
    python benchmarks/bench_gui_latency.py --open-only   # only open → first / full alpha
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from _common import alphamatting_dir  # noqa: E402


def make_photo(name: str, mp: float, data, folder: Path) -> Path:
    src = alphamatting_dir(data) / "input" / f"{name}.png"
    img = cv2.imread(str(src))
    if img is None:
        raise SystemExit(f"cannot read {src} (use --data DIR)")
    f = (mp * 1e6 / (img.shape[0] * img.shape[1])) ** 0.5
    big = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    out = folder / f"{name}_{mp:g}mp.jpg"
    cv2.imwrite(str(out), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mp", type=float, default=12.0)
    ap.add_argument("--image", default="GT05")
    ap.add_argument("--strokes", type=int, default=20)
    ap.add_argument("--data", default=None)
    ap.add_argument("--open-only", action="store_true",
                    help="measure only open → first alpha and open → full-resolution alpha")
    args = ap.parse_args()

    from matting_studio.core.trimap import Stroke, apply_strokes
    from matting_studio.gui.app import create_app, warm_model
    from matting_studio.gui.main_window import MainWindow
    from matting_studio.gui.settings import AppSettings

    tmp = Path(tempfile.mkdtemp(prefix="bench_gui_"))
    photo = make_photo(args.image, args.mp, args.data, tmp)
    app = create_app()
    warm_model().join()
    win = MainWindow(settings=AppSettings(tmp / "settings.ini"))
    win.resize(1440, 900)
    win.show()
    shown: list[tuple[float, bool]] = []
    win.alphaShown.connect(lambda: shown.append(
        (time.perf_counter(), bool(win.controller.doc.result.preview))))

    def wait(pred, timeout=180.0) -> bool:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            app.processEvents()
            if pred():
                return True
            time.sleep(0.001)
        return False

    c = win.controller
    t0 = time.perf_counter()
    win.open_path(photo)
    wait(lambda: bool(shown))
    first = shown[0][0] - t0 if shown else float("nan")
    wait(lambda: c.alpha_is_current() and not c.is_busy())
    full_open = time.perf_counter() - t0
    doc = c.doc
    h, w = doc.shape
    rng = np.random.default_rng(0)
    previews, finals = [], []
    modes = ("foreground", "background", "unknown")
    tries = 0
    n_strokes = 0 if args.open_only else args.strokes
    while len(previews) < n_strokes and tries < n_strokes * 5:
        tries += 1
        cx, cy = w * (0.25 + 0.5 * rng.random()), h * (0.25 + 0.5 * rng.random())
        dx, dy = rng.normal(0, 0.03 * w), rng.normal(0, 0.03 * h)
        s = Stroke(modes[tries % 3], float(rng.uniform(8, 40)),
                   ((cx, cy), (cx + dx, cy + dy), (cx + 2 * dx, cy + dy / 2)))
        if np.array_equal(apply_strokes(doc.trimap(), [s]), doc.trimap()):
            continue  # a stroke that changes nothing triggers no solve
        shown.clear()
        ts = time.perf_counter()
        c.add_stroke(s)
        wait(lambda: bool(shown), 60)
        if shown:
            previews.append((shown[0][0] - ts) * 1000)
        wait(lambda: c.alpha_is_current() and not c.is_busy())
        finals.append((time.perf_counter() - ts) * 1000)
    win.close()

    if not previews:
        print(f"\nEditor latency, {args.image} upscaled to {h * w / 1e6:.1f} MP ({w}×{h}), "
              f"{os.cpu_count()} CPUs, offscreen Qt")
        print(f"open → first alpha on screen: {first:.2f} s; open → full-resolution alpha: "
              f"{full_open:.2f} s")
        return 0
    p = np.percentile
    print(f"\nEditor latency, {args.image} upscaled to {h * w / 1e6:.1f} MP ({w}×{h}), "
          f"{len(previews)} strokes, {os.cpu_count()} CPUs, offscreen Qt\n")
    print("| measure | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    print(f"| stroke → preview alpha on screen | {p(previews, 50):.0f} | {p(previews, 95):.0f} | "
          f"{max(previews):.0f} |")
    print(f"| stroke → full-resolution alpha on screen (baseline) | {p(finals, 50):.0f} | "
          f"{p(finals, 95):.0f} | {max(finals):.0f} |")
    print(f"\np95 speed-up of the preview over the full re-solve: "
          f"{p(finals, 95) / p(previews, 95):.0f}×")
    print(f"open → first alpha on screen: {first:.2f} s; open → full-resolution alpha: "
          f"{full_open:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
