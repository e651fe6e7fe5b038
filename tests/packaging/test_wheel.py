"""Release artefacts: ``python -m build`` makes an sdist and a wheel that install and cut out.

The wheel is built the way a release is (``python -m build``: sdist first, then the wheel from
the unpacked sdist, so a file missing from the sdist breaks the wheel too), installed into a
brand-new virtual environment and run from there with ``matting-studio --version`` and
``matting-studio cutout`` on the sample photo the wheel ships.

How the fresh environment gets its dependencies (the choice, and why):

* default — *overlay*: ``python -m venv --without-pip`` makes an empty environment; the wheel is
  installed into it with ``pip --python VENV install --no-deps --no-index``; then a ``.pth`` file
  appends the running environment's site-packages (where numpy, onnxruntime, PySide6, ... are
  already installed) to the new environment's ``sys.path``. ``matting_studio`` itself is always
  imported from the new environment (checked), never from the checkout or an editable install
  (``.pth`` files of the appended folder are not executed). Every requirement the wheel declares
  is checked against what the new environment sees. No network, no 300 MB of downloads,
  about 30 s, so it can run in CI on every push.
* ``MATTING_STUDIO_WHEEL_TEST_FULL=1`` — *isolated*: no ``.pth``; pip installs the wheel *with*
  its dependencies from the configured package index. Slower and needs the index, but proves
  the dependency list resolves on its own.

Building needs the ``build`` package (in the ``test`` extra) and, as any install of this project
does, access to the package index (or pip's cache) for the build backend, setuptools ≥ 77.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("MATTING_STUDIO_WHEEL_TEST_FULL", "") not in ("", "0")


def source_version() -> str:
    tree = ast.parse((ROOT / "matting_studio" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__version__":
            return node.value.value
    raise AssertionError("no __version__ in matting_studio/__init__.py")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env.update(extra)
    return env


def run(cmd, cwd: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=clean_env(**env),
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {r.returncode}\n"
        f"--- stdout\n{r.stdout[-4000:]}\n--- stderr\n{r.stderr[-4000:]}"
    )
    return r


def only(paths) -> Path:
    paths = list(paths)
    assert len(paths) == 1, paths
    return paths[0]


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    try:
        import build  # noqa: F401
    except ImportError:
        pytest.fail("the 'build' package is needed: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=out)
    return only(out.glob("*.tar.gz")), only(out.glob("*.whl"))


@pytest.fixture(scope="module")
def venv(dists, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its folder."""
    _, wheel = dists
    home = tmp_path_factory.mktemp("venv")
    venv = home / "env"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=home)
    py = venv / "bin" / "python"
    if FULL:
        run([sys.executable, "-m", "pip", "--python", py, "install", wheel], cwd=home, timeout=1800)
    else:
        run([sys.executable, "-m", "pip", "--python", py, "install",
             "--no-deps", "--no-index", wheel], cwd=home)
        purelib = run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                      cwd=home).stdout.strip()
        import sysconfig

        parent = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
        (Path(purelib) / "zz_parent_environment.pth").write_text(
            "".join(f"{p}\n" for p in parent), encoding="utf-8")
    return venv


def test_wheel_contents(dists):
    _, wheel = dists
    version = source_version()
    assert wheel.name == f"matting_studio-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(f"matting_studio-{version}.dist-info/METADATA").decode()
        entry_points = z.read(f"matting_studio-{version}.dist-info/entry_points.txt").decode()
    for res in ("sample_astronaut.jpg", "matting-studio.svg"):
        assert f"matting_studio/resources/{res}" in names
    # the embedded model ships in our own package, with its licences and provenance
    for f in ("u2netp.onnx", "README.md", "LICENSE-Apache-2.0.txt", "LICENSE-rembg-MIT.txt"):
        assert f"matting_studio/models/{f}" in names
    # Every module of the source tree ships (catches a sub-package missing from pyproject).
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "matting_studio").rglob("*.py")}
    missing = sorted(sources - names)
    assert not missing, f"not in the wheel (add the package to pyproject.toml): {missing}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert f"\nVersion: {version}\n" in meta
    assert "matting-studio = matting_studio.cli:run" in entry_points
    assert not any(n.startswith(("tests/", "packaging/")) for n in names)


def test_sdist_contents(dists):
    sdist, _ = dists
    top = f"matting_studio-{source_version()}"
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for required in ("README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "MANIFEST.in",
                     "resources/sample_astronaut.jpg", "resources/matting-studio.svg",
                     "packaging/matting-studio.spec", "matting_studio/models/u2netp.onnx",
                     "packaging/io.github.mattingstudio.MattingStudio.desktop",
                     "packaging/io.github.mattingstudio.MattingStudio.metainfo.xml",
                     "tests/conftest.py", "tests/packaging/test_wheel.py"):
        assert required in names, f"{required} missing from {top}.tar.gz"
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_installed_wheel_runs_cutout(venv, tmp_path):
    bindir = venv / "bin"
    py, exe = bindir / "python", bindir / "matting-studio"
    assert exe.is_file(), "the console script was not installed"

    # matting_studio comes from the new environment, not from the checkout.
    where = run([py, "-c", "import matting_studio; print(matting_studio.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout

    if not FULL:  # (in the isolated mode pip itself resolved them)
        # Every requirement the wheel declares is satisfied by what the environment sees.
        check = run([py, "-c", REQUIREMENTS_CHECK], cwd=tmp_path)
        assert "requirements ok" in check.stdout, check.stdout

    version = run([exe, "--version"], cwd=tmp_path)
    assert version.stdout.strip() == f"matting-studio {source_version()}"

    # The sample photo is the one the wheel installed.
    sample = Path(run([py, "-c", "from matting_studio.resources_path import resource_path as r;"
                           "print(r('sample_astronaut.jpg'))"], cwd=tmp_path).stdout.strip())
    assert sample.resolve().is_relative_to(venv.resolve())

    out = tmp_path / "cut" / "astronaut.png"
    run([exe, "cutout", "-q", sample, "-o", out, "--alpha-out", tmp_path / "alpha.png"],
        cwd=tmp_path, QT_QPA_PLATFORM="offscreen")

    import numpy as np
    from PIL import Image

    with Image.open(out) as im:
        assert im.mode == "RGBA" and im.size == (512, 512)
        alpha = np.asarray(im)[:, :, 3]
    opaque, clear = (alpha == 255).mean(), (alpha == 0).mean()
    assert 0.1 < opaque < 0.9 and 0.1 < clear < 0.9, (opaque, clear)


REQUIREMENTS_CHECK = r"""
from importlib import metadata
from packaging.requirements import Requirement
bad = []
for line in metadata.requires("matting-studio") or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        bad.append(f"{req.name}: not installed")
        continue
    if req.specifier and not req.specifier.contains(have, prereleases=True):
        bad.append(f"{req.name} {have} does not satisfy {req.specifier}")
print("\n".join(bad) if bad else "requirements ok")
"""
