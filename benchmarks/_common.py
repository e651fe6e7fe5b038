"""Shared helpers for the benchmarks: upscaled alphamatting inputs, SAD, timed subprocesses.

Inputs are built on the fly from ``../shared/data/alphamatting`` (never copied into the
repository) and cached as PNG files under a temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
CACHE = Path(os.environ.get("MATTING_BENCH_CACHE", Path(tempfile.gettempdir()) / "matting_bench"))


@dataclass(frozen=True)
class Triplet:
    name: str
    image: np.ndarray  # uint8 RGB (h, w, 3)
    trimap: np.ndarray  # uint8 0/128/255
    gt: np.ndarray  # uint8 alpha


def alphamatting_dir(data: str | os.PathLike[str] | None = None) -> Path:
    root = Path(data) if data else DEFAULT_DATA
    return root / "alphamatting" if (root / "alphamatting").is_dir() else root


def load_triplet(name: str, data=None, trimap: str = "trimap1") -> Triplet:
    """Read ``input/NAME.png``, ``TRIMAP/NAME.png`` and ``gt/NAME.png`` of the alphamatting set."""
    d = alphamatting_dir(data)
    img = cv2.imread(str(d / "input" / f"{name}.png"), cv2.IMREAD_COLOR)
    tri = cv2.imread(str(d / trimap / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    gt = cv2.imread(str(d / "gt" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    if img is None or tri is None or gt is None:
        raise SystemExit(f"cannot read {name} from {d} (pass --data DIR)")
    return Triplet(name, img[:, :, ::-1].copy(), quantize_trimap(tri), gt)


def quantize_trimap(t: np.ndarray) -> np.ndarray:
    out = np.full(t.shape, 128, np.uint8)
    out[t < 10] = 0
    out[t > 245] = 255
    return out


def upscale(t: Triplet, megapixels: float) -> Triplet:
    """The triplet resized to about ``megapixels`` MP (cubic image, linear gt, nearest trimap)."""
    h, w = t.trimap.shape
    s = (megapixels * 1e6 / (h * w)) ** 0.5
    size = (max(1, round(w * s)), max(1, round(h * s)))
    if size == (w, h):
        return t
    img = cv2.resize(t.image, size, interpolation=cv2.INTER_CUBIC)
    gt = cv2.resize(t.gt, size, interpolation=cv2.INTER_LINEAR)
    tri = cv2.resize(t.trimap, size, interpolation=cv2.INTER_NEAREST)
    return Triplet(t.name, img, tri, gt)


def cached_inputs(name: str, megapixels: float, data=None, trimap: str = "trimap1"
                  ) -> tuple[Path, Path, Path]:
    """(image.png, trimap.png, gt.png) of the upscaled triplet, written once into CACHE."""
    folder = CACHE / f"{name}_{trimap}_{megapixels:g}mp"
    paths = tuple(folder / f"{k}.png" for k in ("image", "trimap", "gt"))
    if not all(p.exists() for p in paths):
        folder.mkdir(parents=True, exist_ok=True)
        t = upscale(load_triplet(name, data, trimap), megapixels)
        for p, arr in zip(paths, (t.image[:, :, ::-1], t.trimap, t.gt)):
            tmp = p.with_suffix(".tmp.png")
            cv2.imwrite(str(tmp), arr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            tmp.replace(p)
    return paths  # type: ignore[return-value]


def read_grey(path: str | os.PathLike[str]) -> np.ndarray:
    a = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if a is None:
        raise SystemExit(f"cannot read {path}")
    return a


def sad(alpha: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Sum of absolute differences on the unknown region, alpha in 0..1, divided by 1000."""
    a = np.asarray(alpha, np.float64)
    if a.max() > 1.0:
        a = a / 255.0
    g = np.asarray(gt, np.float64) / 255.0
    u = (trimap != 0) & (trimap != 255)
    return float(np.abs(a[u] - g[u]).sum() / 1000.0)


def byte_compile_package() -> None:
    """Write the bytecode of ``matting_studio``'s modules, as ``pip install`` leaves an installed
    package (and as Python itself does on the first run, unless PYTHONDONTWRITEBYTECODE is set,
    which some sandboxes and CI images do): otherwise an editable checkout compiles every module
    from source in every timed process, a cost no user pays."""
    import compileall

    compileall.compile_dir(REPO / "matting_studio", quiet=1)


@dataclass(frozen=True)
class RunResult:
    seconds: float
    peak_mb: float
    stdout: str


def run_measured(cmd: list[str], timeout: float | None = None) -> RunResult:
    """Run ``cmd`` under ``/usr/bin/time -v``: wall seconds and peak RSS of the whole process."""
    timer = "/usr/bin/time"
    full = [timer, "-v", *cmd] if Path(timer).exists() else list(cmd)
    t0 = time.perf_counter()
    p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    peak = int(m.group(1)) / 1024.0 if m else float("nan")
    return RunResult(seconds, peak, p.stdout)


NAIVE_SCRIPT = r"""
import sys, time
import cv2, numpy as np
from pymatting import estimate_alpha_cf
img = cv2.imread(sys.argv[1], cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float64) / 255.0
tri = cv2.imread(sys.argv[2], cv2.IMREAD_GRAYSCALE).astype(np.float64) / 255.0
t0 = time.perf_counter()
alpha = estimate_alpha_cf(img, tri)
print(f"solve_seconds {time.perf_counter() - t0:.3f}")
cv2.imwrite(sys.argv[3], np.clip(np.rint(alpha * 255), 0, 255).astype(np.uint8))
"""


def naive_cmd(image: Path, trimap: Path, alpha_out: Path) -> list[str]:
    """Naive pymatting closed-form over the whole image, as a separate process."""
    return [sys.executable, "-c", NAIVE_SCRIPT, str(image), str(trimap), str(alpha_out)]


def cli_cmd(image: Path, trimap: Path, alpha_out: Path, cutout_out: Path, *extra: str) -> list[str]:
    """``matting-studio cutout IMG --trimap TRIMAP --alpha-out A.png`` (our whole CLI)."""
    return [sys.executable, "-m", "matting_studio", "cutout", str(image), "--trimap", str(trimap),
            "--alpha-out", str(alpha_out), "-o", str(cutout_out), "-q", *extra]


def fmt_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
