"""Mutation fuzz of JPEG, PNG, TIFF and WebP files through the real ``cutout`` command.

Small valid photos of many kinds (:func:`fuzz_files.seed_files`) are damaged by a seeded
mutator (:func:`fuzz_files.mutate`) and each case goes through ``matting_studio.cli.main(
["cutout", ...])`` with a tiny ONNX stand-in model. The calls run in a worker process that
stays up between cases (start-up paid once): the test kills and restarts it when a case runs
past its time limit (a hang) or the process dies (a crash in a native decoder), so one bad
case cannot take the test run down, and the case is reported.

Every case must end in exit 0 with a complete RGBA PNG, or exit 1 with exactly one
``error: <file>: <reason>`` line; never a traceback, "unexpected problem", "internal error", a
hang, a crash, a partial or left-over file, or a changed input. Separately, stderr must carry
nothing else (no libpng / libjpeg / libtiff / OpenCV warnings).

Environment: ``MATTING_STUDIO_FUZZ_CASES`` (default 600), ``MATTING_STUDIO_FUZZ_SEED``
(default 19), ``MATTING_STUDIO_FUZZ_TIMEOUT`` (seconds per case, default 60),
``MATTING_STUDIO_FUZZ_MAX_PIXELS`` (the loader's pixel limit in the worker, default 16 MP, so
that a header patched to 14000×14000 is refused instead of taking minutes and gigabytes here;
set 200000000 to fuzz at the app's own limit) and ``MATTING_STUDIO_FUZZ_KEEP`` (a folder that
receives the failing cases).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import fuzz_files as ff

CASES = int(os.environ.get("MATTING_STUDIO_FUZZ_CASES", "600"))
SEED = int(os.environ.get("MATTING_STUDIO_FUZZ_SEED", "19"))
CASE_TIMEOUT = float(os.environ.get("MATTING_STUDIO_FUZZ_TIMEOUT", "60"))
MAX_PIXELS = os.environ.get("MATTING_STUDIO_FUZZ_MAX_PIXELS", "16000000")
KEEP = os.environ.get("MATTING_STUDIO_FUZZ_KEEP")
WORKER_MEMORY = 8 << 30
"""Address-space limit of the worker (POSIX)."""
FORBIDDEN = ("Traceback", "unexpected problem", "internal error", "please report")


# -- the worker: cli.main in a long-lived process -------------------------------------------------

def worker_main(model: str) -> None:
    """Read one JSON request per line, run ``cutout`` on it with fds 1 and 2 captured, answer
    one JSON line on the original stdout."""
    import tempfile

    if os.name == "posix":  # a runaway allocation fails here, not on the machine
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    from matting_studio import cli

    reply = os.fdopen(os.dup(1), "w", buffering=1)
    saved = os.dup(1), os.dup(2)
    for line in sys.stdin:
        req = json.loads(line)
        with tempfile.TemporaryFile() as capture:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(capture.fileno(), 1)
            os.dup2(capture.fileno(), 2)
            t0 = time.perf_counter()
            try:
                code = cli.main(["cutout", "-q", "--threads", "2", "--model", model,
                                 "--preset", "u2netp", req["input"], "-o", req["output"]])
            except SystemExit as e:  # argparse: a usage error is a result too
                code = e.code
            seconds = time.perf_counter() - t0
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            capture.seek(0)
            text = capture.read().decode("utf-8", "backslashreplace")
        reply.write(json.dumps({"code": code, "output": text, "seconds": seconds}) + "\n")


class Worker:
    """The worker process; :meth:`run` answers a result dict, or raises :class:`Lost`."""

    def __init__(self, model: Path, log: Path):
        env = dict(os.environ, MATTING_STUDIO_MAX_PIXELS=MAX_PIXELS,
                   PYTHONIOENCODING="utf-8:backslashreplace")
        self._log = open(log, "ab")  # noqa: SIM115 - closed with the worker (close())
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(model)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._log, env=env)
        self._answers: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._answers.put(json.loads(line))
        self._answers.put(None)

    def run(self, request: dict, timeout: float) -> dict:
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            raise Lost(f"the worker died (exit {self.proc.wait()})") from None
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise Lost(f"hang: no answer within {timeout:.0f} s") from None
        if answer is None:
            raise Lost(f"crash: the process died (exit status {self.proc.wait()})")
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self._log.close()


class Lost(Exception):
    pass


# -- one case -------------------------------------------------------------------------------------

@dataclass
class Outcome:
    name: str
    how: str
    result: str = ""  # "ok" | "refused" | "broken"
    problems: list[str] = field(default_factory=list)
    noise: list[str] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def check_case(answer: dict, src: Path, digest: str, out_dir: Path, out: Path,
               outcome: Outcome) -> None:
    """Judge one answer of the worker (fills ``outcome``)."""
    from PIL import Image

    from matting_studio.core.io import display_name

    problems = outcome.problems
    code, text = answer["code"], answer["output"]
    outcome.seconds = answer["seconds"]
    for bad in FORBIDDEN:
        if bad in text:
            problems.append(f"stderr says {bad!r}")
    if not src.exists() or _sha(src) != digest:
        problems.append("the input file was changed")
    left = sorted(p.name for p in out_dir.iterdir())
    name = display_name(src)
    lines = text.splitlines()
    errors = [ln for ln in lines if ln.startswith("error:")]
    summary = "matting-studio: 1 of 1 photo(s) failed"
    ours = [ln for ln in lines if ln.startswith(("WARNING matting_studio", "INFO matting_studio"))]
    outcome.noise = [ln for ln in lines if ln not in errors and ln != summary and ln not in ours]
    if code == 0:
        outcome.result = "ok"
        if errors:
            problems.append(f"exit 0 with {errors}")
        if left != [out.name]:
            problems.append(f"exit 0, the output folder holds {left}")
        else:
            try:
                with Image.open(out) as im:
                    im.load()
                    if im.mode != "RGBA" or im.format != "PNG" or min(im.size) < 1:
                        problems.append(f"output is {im.format} {im.mode} {im.size}")
            except Exception as e:  # noqa: BLE001 - any failure to read it back is the finding
                problems.append(f"output unreadable ({type(e).__name__}: {e})")
    elif code == 1:
        outcome.result = "refused"
        if len(errors) != 1 or not errors[0].startswith(f"error: {name}: "):
            problems.append(f"exit 1 with error lines {errors}")
        else:
            outcome.reason = errors[0][len(f"error: {name}: "):]
        if left:
            problems.append(f"refused, but the output folder holds {left}")
    else:
        problems.append(f"exit status {code}")
    if problems:
        outcome.result = "broken"


# -- the run --------------------------------------------------------------------------------------

@dataclass
class FuzzRun:
    outcomes: list[Outcome]
    seconds: float

    def count(self, result: str) -> int:
        return sum(o.result == result for o in self.outcomes)


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory) -> FuzzRun:
    pytest.importorskip("onnx")
    import onnx_models

    root = tmp_path_factory.mktemp("fuzz")
    model = onnx_models.warm_colour_model(root / "warm.onnx")
    seeds = ff.seed_files()
    in_dir, out_dir = root / "in", root / "out"
    in_dir.mkdir()
    out_dir.mkdir()
    log = root / "worker.log"
    worker = Worker(model, log)
    outcomes = []
    t0 = time.perf_counter()
    try:
        for i in range(CASES):
            m = ff.mutate(seeds, i, SEED)
            src = in_dir / m.name
            src.write_bytes(m.data)
            digest = _sha(src)
            out = out_dir / (src.stem + ".png")
            outcome = Outcome(m.name, m.how)
            try:
                answer = worker.run({"input": str(src), "output": str(out)}, CASE_TIMEOUT)
            except Lost as e:
                outcome.result, outcome.problems = "broken", [str(e)]
                worker.close()
                worker = Worker(model, log)
                for p in out_dir.iterdir():
                    p.unlink()
            else:
                check_case(answer, src, digest, out_dir, out, outcome)
            outcomes.append(outcome)
            if outcome.result == "broken" and KEEP:
                Path(KEEP).mkdir(parents=True, exist_ok=True)
                shutil.copy(src, Path(KEEP) / m.name)
            for p in out_dir.iterdir():
                p.unlink()
            if outcome.result != "broken":
                src.unlink()
    finally:
        worker.close()
    run = FuzzRun(outcomes, time.perf_counter() - t0)
    slow = max(outcomes, key=lambda o: o.seconds)
    reasons = Counter(_reason_kind(o.reason) for o in outcomes if o.result == "refused")
    print(f"\nfile fuzz (seed {SEED}): {len(outcomes)} cases, {run.count('ok')} ok, "
          f"{run.count('refused')} refused, {run.count('broken')} broken, "
          f"{sum(bool(o.noise) for o in outcomes)} with other stderr lines; "
          f"{run.seconds:.1f} s (slowest {slow.name}: {slow.seconds:.1f} s)")
    print("refusals: " + "; ".join(f"{n}× {r}" for r, n in reasons.most_common(8)))
    noise = Counter(k for o in outcomes for k in set(map(noise_source, o.noise)))
    if noise:
        print("other stderr lines (cases): " + "; ".join(f"{n}× {k}" for k, n in
                                                         noise.most_common()))
    return run


def noise_source(line: str) -> str:
    """Which library a stray stderr line comes from, as far as its text tells."""
    if line.startswith("libpng"):
        text = line.split(": ", 1)[-1]
        if text.startswith("IDAT:") or text in PNG_DATA_ERRORS:
            return "libpng (pixel data)"
        return "libpng"
    if line.startswith(("[ WARN", "[ERROR", "[ INFO")):
        return "OpenCV log"
    if line.startswith(("Corrupt JPEG", "Premature end", "Invalid JPEG", "Bogus")):
        return "libjpeg"
    if line.startswith(("TIFF", "tempfile.tif", "_TIFF", "JPEGLib")) or re.match(
            r"(LZW|ZIP|PackBits|Fax3|Fax4|OJPEG|JPEG|Predictor|LZMA|ZSTD|Thunder|NeXT)\w*: "
            r"|MissingRequired: ", line):
        return "libtiff"
    if line.startswith(("ERROR PIL", "WARNING PIL")):
        return "Pillow's log"
    return line[:40]


PNG_DATA_ERRORS = ("bad adaptive filter value", "Not enough image data", "Too much image data",
                   "Extra compressed data")
KNOWN_NOISE: dict[str, str] = {}
"""Native noise still reaching stderr (none now; name a source here, with why, if one has to
be tolerated for a while)."""


def _reason_kind(reason: str) -> str:
    return reason.split(" (")[0][:70]


def _show(outcomes: list[Outcome], what) -> str:
    return "\n".join(f"  {o.name} [{o.how}]: {what(o)}" for o in outcomes[:25])


@pytest.mark.slow
def test_damaged_files_are_cut_out_or_refused_in_one_line(fuzz_run):
    broken = [o for o in fuzz_run.outcomes if o.result == "broken"]
    assert not broken, (f"{len(broken)} of {len(fuzz_run.outcomes)} cases broke (rerun: "
                        f"MATTING_STUDIO_FUZZ_SEED={SEED}; write them out: python "
                        f"tests/core/fuzz_files.py DIR {CASES} {SEED}):\n"
                        + _show(broken, lambda o: "; ".join(o.problems)))


@pytest.mark.slow
def test_the_mutations_reach_the_decoders(fuzz_run):
    """Not all refused at the door: a good share still decodes and is cut out."""
    n = len(fuzz_run.outcomes)
    assert fuzz_run.count("ok") >= 0.15 * n and fuzz_run.count("refused") >= 0.25 * n
    by_kind = Counter(ff.kind_of(o.how.split(":")[0]) for o in fuzz_run.outcomes
                      if o.result == "ok")
    if n >= 200:
        assert set(by_kind) == {"jpeg", "png", "tiff", "webp"}, by_kind


@pytest.mark.slow
def test_stderr_carries_nothing_else(fuzz_run):
    """Only our own lines on stderr, apart from the native noise listed in KNOWN_NOISE."""
    noisy = [o for o in fuzz_run.outcomes
             if any(noise_source(ln) not in KNOWN_NOISE for ln in o.noise)]
    assert not noisy, f"{len(noisy)} cases wrote other lines to stderr:\n" + _show(
        noisy, lambda o: " | ".join(o.noise)[:300])


@pytest.mark.slow
def test_native_libraries_say_nothing_at_all(fuzz_run):
    noisy = [o for o in fuzz_run.outcomes if o.noise]
    assert not noisy, f"{len(noisy)} cases wrote other lines to stderr:\n" + _show(
        noisy, lambda o: " | ".join(o.noise)[:300])


def test_16_bit_png_checked_before_opencv_keeps_its_depth():
    """The 16-bit PNG path hands libpng only checked files (fix for its stderr noise): a
    valid file with a text chunk after the pixels still loads at 16 bits."""
    import cv2
    import numpy as np

    from matting_studio.core.io import decode_image

    deep = ff.hf.subject().astype(np.uint16) * 257
    png16 = cv2.imencode(".png", deep[:, :, ::-1])[1].tobytes()
    late = png16[:-12] + ff.hf._chunk(b"tEXt", b"Comment\x00written last") + png16[-12:]
    img = decode_image(late, "late.png")
    assert img.bit_depth == 16
    assert np.abs(img.rgb - deep / 65535.0).max() < 1e-6


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    worker_main(sys.argv[2])
