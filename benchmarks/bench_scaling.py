"""Full-resolution matting time and memory vs megapixels: naive pymatting vs our CLI.

For each size, the alphamatting image (input, trimap, gt) is upscaled to that many megapixels
(cubic image, nearest trimap, linear gt; cached under $TMPDIR/matting_bench, never in the repo)
and run through, each as its own process measured with /usr/bin/time (wall time and peak RSS):

* naive — pymatting ``estimate_alpha_cf`` over the whole image (one sparse system), only up to
  ``--naive-max`` MP (4 by default: 24 MP is out of its reach);
* ours — ``matting-studio cutout IMG --trimap TRIMAP --alpha-out A.png -o CUT.png --matting M``
  for each backend M of ``--matting`` (the whole CLI: start-up, loading, matting, foreground
  colours, both PNGs).

Both are timed as installed packages run: with their modules' bytecode written (pip writes
pymatting's; ours is written before the first run, see ``byte_compile_package``).
Ours is run ``--repeat`` times (default 3) and its median wall time and largest peak are
printed: on a shared 2-core VM one run of a 2 s process varies by ±15 %. The naive solve (15 s
to minutes here) runs ``--naive-repeat`` times (default 1), median time. SAD is on the
trimap's unknown region against the upscaled gt, /1000.

Usage:

    python benchmarks/bench_scaling.py [--sizes 1 4 12 24] [--images GT01] [--matting cf ifm]
                                       [--repeat 3] [--naive-repeat 1] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (RunResult, byte_compile_package, cached_inputs, cli_cmd, fmt_table,
                     naive_cmd, read_grey, run_measured, sad)


def median_run(runs: list[RunResult]) -> RunResult:
    """The runs' median time and largest peak."""
    return RunResult(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs), "")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=float, nargs="+", default=[1, 4, 12, 24], help="megapixels")
    p.add_argument("--images", nargs="+", default=["GT01"], help="alphamatting names")
    p.add_argument("--trimap", default="trimap1", help="trimap1 or trimap2")
    p.add_argument("--data", help="folder holding alphamatting/ (default ../shared/data)")
    p.add_argument("--naive-max", type=float, default=4.0, help="largest size run naively (MP)")
    p.add_argument("--matting", nargs="+", default=["cf", "ifm"],
                   help="our backends (CLI --matting), one row each")
    p.add_argument("--repeat", type=int, default=3, help="runs of ours per row (median time)")
    p.add_argument("--naive-repeat", type=int, default=1,
                   help="runs of the naive solve per row (median time; each takes 15-100 s at "
                        "4 MP here)")
    args = p.parse_args(argv)
    byte_compile_package()  # timed as installed: pymatting's bytecode is there, ours too

    header = ["image", "MP", "unknown px", "ours: --matting", "naive s", "naive peak MB",
              "ours s", "ours peak MB", "speed-up", "SAD naive", "SAD ours", "SAD ours/naive"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name in args.images:
            for mp in args.sizes:
                img, tri, gt = cached_inputs(name, mp, args.data, args.trimap)
                trimap = read_grey(tri)
                gt_a = read_grey(gt)
                unknown = int(((trimap != 0) & (trimap != 255)).sum())
                naive = None
                if mp <= args.naive_max:
                    a_naive = out / "naive.png"
                    naive_runs = [run_measured(naive_cmd(img, tri, a_naive))
                                  for _ in range(max(1, args.naive_repeat))]
                    naive = median_run(naive_runs)
                    sad_naive = sad(read_grey(a_naive), gt_a, trimap)
                for backend in args.matting:
                    row = [name, f"{trimap.size / 1e6:.1f}", f"{unknown:,}", backend]
                    if naive is not None:
                        row += [f"{naive.seconds:.1f}", f"{naive.peak_mb:.0f}"]
                    else:
                        row += ["—", "—"]
                    a_ours = out / "ours.png"
                    runs = [run_measured(cli_cmd(img, tri, a_ours, out / "cut.png",
                                                 "--matting", backend))
                            for _ in range(max(1, args.repeat))]
                    ours = median_run(runs)
                    sad_ours = sad(read_grey(a_ours), gt_a, trimap)
                    row += [f"{ours.seconds:.2f}", f"{ours.peak_mb:.0f}"]
                    if naive is not None:
                        row += [f"{naive.seconds / ours.seconds:.1f}×", f"{sad_naive:.2f}",
                                f"{sad_ours:.2f}", f"{sad_ours / sad_naive:.3f}"]
                    else:
                        row += ["—", "—", f"{sad_ours:.2f}", "—"]
                    rows.append(row)
                    naive_note = "" if naive is None else (
                        "; naive: " + ", ".join(f"{r.seconds:.1f}" for r in naive_runs) + " s")
                    print(" | ".join(row) + "   (ours: "
                          + ", ".join(f"{r.seconds:.2f}" for r in runs) + " s" + naive_note + ")",
                          file=sys.stderr, flush=True)
    print(f"\nours = matting-studio cutout --matting M (whole process, median of {args.repeat}); "
          f"naive = pymatting estimate_alpha_cf (whole process, median of {args.naive_repeat}); "
          f"{os.cpu_count()} CPUs\n")
    print(fmt_table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
