"""Photos per minute: the plain command-line batch against the same batch on Dask, and an
estimate for a cluster of N machines.

All in one run, on the same photos (the alphamatting.com inputs, or upscaled copies):

1. **local**: ``matting-studio cutout DIR -o OUT`` (the baseline);
2. **dask, cold**: the same command with ``--dask tcp://…`` on a local cluster of
   ``--workers`` worker processes started beforehand (one thread and one photo slot each): the
   workers load the model during this run;
3. **dask, warm**: the same again, the workers' models already loaded;
4. **dask local**: ``--dask local``, the command starting (and stopping) its own cluster.

Each run writes ``--report`` CSVs; from the warm run's per-photo worker seconds and the bytes
that travel per photo (photo in, cut-out out) the script estimates photos per minute for N
machines and prints the assumptions beside the table.

Usage::

    python benchmarks/bench_cluster.py                      # 27 photos as they are (~3 min)
    python benchmarks/bench_cluster.py --megapixels 4 --photos 12 --data DIR

Needs the dask extra (``pip install ".[dask]"``).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import alphamatting_dir, cached_inputs, fmt_table  # noqa: E402


def photos(data, count: int, megapixels: float, folder: Path) -> list[Path]:
    """``count`` alphamatting inputs (upscaled to ``megapixels`` when > 0) linked into
    ``folder``."""
    names = sorted(p.stem for p in (alphamatting_dir(data) / "input").glob("GT*.png"))[:count]
    if not names:
        raise SystemExit(f"no photos in {alphamatting_dir(data) / 'input'} (pass --data DIR)")
    folder.mkdir(parents=True)
    out = []
    for name in names:
        src = (cached_inputs(name, megapixels, data)[0] if megapixels > 0
               else alphamatting_dir(data) / "input" / f"{name}.png")
        dst = folder / f"{name}.png"
        os.symlink(src, dst)
        out.append(dst)
    return out


def run_cli(shoot: Path, out: Path, report: Path, *extra: str) -> float:
    cmd = [sys.executable, "-m", "matting_studio", "cutout", str(shoot), "-o", str(out), "-q",
           "--report", str(report), *extra]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return seconds


def report_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="folder holding alphamatting/ (default ../shared/data)")
    ap.add_argument("--photos", type=int, default=27, help="how many photos (default 27)")
    ap.add_argument("--megapixels", type=float, default=0.0,
                    help="upscale the photos to this size (default: as they are)")
    ap.add_argument("--workers", type=int, default=2, help="local Dask workers (default 2)")
    ap.add_argument("--machine-cores", type=int, default=16,
                    help="cores of one machine in the estimate (default 16)")
    ap.add_argument("--link-mbps", type=float, default=1000.0,
                    help="the client's network link in the estimate, Mbit/s (default 1000)")
    ap.add_argument("--machines", default="1,2,4,8,16,32,64",
                    help="machine counts of the estimate")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from matting_studio.core.cpu import usable_cores

    root = Path(tempfile.mkdtemp(prefix="bench_cluster_"))
    try:
        shoot = photos(args.data, args.photos, args.megapixels, root / "shoot")
        folder = root / "shoot"
        n = len(shoot)
        times = {}
        times["local (plain CLI batch)"] = run_cli(folder, root / "local", root / "local.csv")
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          resources={"photo": 1}, dashboard_address=":0",
                          silence_logs=40) as cluster, Client(cluster):
            address = cluster.scheduler_address
            times[f"dask, {args.workers} workers, cold"] = run_cli(
                folder, root / "cold", root / "cold.csv", "--dask", address)
            times[f"dask, {args.workers} workers, warm"] = run_cli(
                folder, root / "warm", root / "warm.csv", "--dask", address)
        times["dask local (starts its own cluster)"] = run_cli(
            folder, root / "dlocal", root / "dlocal.csv", "--dask", "local")

        base = times["local (plain CLI batch)"]
        print(f"\n{n} photos, mean {statistics.mean(_mp(p) for p in shoot):.2f} MP; this "
              f"machine: {usable_cores()} cores, load average {os.getloadavg()[0]:.1f}\n")
        print(fmt_table(["run", "seconds", "photos/min", "vs local"],
                        [[k, f"{s:.1f}", f"{60 * n / s:.1f}", f"{base / s:.2f}×"]
                         for k, s in times.items()]))

        warm = report_rows(root / "warm.csv")
        assert all(r["status"] == "done" for r in warm), warm
        per_photo = statistics.mean(float(r["seconds"]) for r in warm)
        local_rows = report_rows(root / "local.csv")
        local_per_photo = statistics.mean(float(r["seconds"]) for r in local_rows)
        bytes_in = statistics.mean(p.stat().st_size for p in shoot)
        bytes_out = statistics.mean(Path(r["outputs"]).stat().st_size for r in warm)
        measured = 60 * n / times[f"dask, {args.workers} workers, warm"]
        ideal = 60 * args.workers / per_photo
        efficiency = min(1.0, measured / ideal)
        print(f"\nper photo: {per_photo:.2f} s on a one-thread worker (local batch, "
              f"{usable_cores()} threads: {local_per_photo:.2f} s); {bytes_in / 1e6:.2f} MB in, "
              f"{bytes_out / 1e6:.2f} MB out; the {args.workers} warm workers reached "
              f"{100 * efficiency:.0f} % of {args.workers} × 60 / {per_photo:.2f} s")
        print(_estimate(args, per_photo, efficiency, bytes_in + bytes_out))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _mp(path: Path) -> float:
    from PIL import Image

    with Image.open(path) as im:
        return im.size[0] * im.size[1] / 1e6


def _estimate(args, per_photo: float, efficiency: float, transfer: float) -> str:
    cores = args.machine_cores
    link = args.link_mbps * 1e6 / 8  # bytes per second
    client_cap = 60 * link / transfer
    rows = []
    for m in (int(x) for x in args.machines.split(",")):
        compute = 60 * m * cores * efficiency / per_photo
        rows.append([str(m), str(m * cores), f"{compute:,.0f}", f"{client_cap:,.0f}",
                     f"{min(compute, client_cap):,.0f}", f"{compute:,.0f}"])
    table = fmt_table(["machines", "photo slots", "compute-bound", "client link cap",
                       "local paths (through the client)", "URLs (workers read/write S3)"],
                      rows)
    return (f"\nEstimate (photos per minute), assuming: {cores} cores per machine, one "
            f"one-thread photo slot per core (memory for {cores} photos of this size at once), "
            f"{per_photo:.2f} s per photo per slot as measured here (the same CPU speed), the "
            f"{100 * efficiency:.0f} % efficiency of the local {args.workers}-worker run, a "
            f"client link of {args.link_mbps:g} Mbit/s carrying {transfer / 1e6:.2f} MB per "
            "photo (photo in + cut-out out) when the photos are local paths, and object "
            "storage that keeps up with every machine's own link when they are URLs. The "
            "scheduler (a few ms per task) stays far below these rates.\n\n" + table)


if __name__ == "__main__":
    main()
