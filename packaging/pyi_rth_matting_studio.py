"""PyInstaller runtime hook: runs inside the frozen app before any application code.

numba (used by pymatting and by Matting Studio's own kernels, all ``cache=True``) keeps its
compiled-code cache next to the source file when that folder is writable. An installed
application folder often is not (/opt, a read-only image), so:

* ``NUMBA_CACHE_DIR`` is pointed at a per-user cache folder that is writable
  (``$XDG_CACHE_HOME/matting-studio/numba``, ``~/.cache/matting-studio/numba``, else a folder in
  the temporary directory), unless the user has set it;
* ``NUMBA_CPU_NAME=generic`` (unless set) so that machine code compiled on one x86-64 machine
  is valid on any other;
* the cache that ``build_app.sh`` compiled into the bundle (``__pycache__/*.nbi, *.nbc`` next to
  the bundled sources) is copied into that folder under the names numba looks for, so the first
  cutout takes seconds instead of minutes of JIT compilation.

``MATTING_STUDIO_NUMBA_PREBUILD=1`` (used by ``build_app.sh`` only) leaves numba's defaults, so
the cache is written into the bundle itself.
"""

import hashlib
import os
import shutil
import sys
import tempfile


def _writable(path):
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
        return True
    except OSError:
        return False


def _numba_cache_dir():
    candidates = []
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        candidates.append(os.path.join(xdg, "matting-studio", "numba"))
    home = os.path.expanduser("~")
    if home and os.path.isabs(home):
        candidates.append(os.path.join(home, ".cache", "matting-studio", "numba"))
    user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    candidates.append(os.path.join(tempfile.gettempdir(), f"matting-studio-{user}", "numba"))
    for c in candidates:
        if _writable(c):
            return c
    return tempfile.mkdtemp(prefix="matting-studio-numba-")


def _cache_subpath(source_dir):
    """numba's name for the cache folder of the sources in ``source_dir``
    (numba.core.caching._CacheLocator.get_suitable_cache_subpath)."""
    source_dir = os.path.abspath(source_dir)
    digest = hashlib.sha1(source_dir.encode()).hexdigest()
    return os.path.basename(source_dir) + "_" + digest


def _seed_cache(bundle, cache_dir):
    for top in ("pymatting", "matting_studio"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(bundle, top)):
            if os.path.basename(dirpath) != "__pycache__":
                continue
            files = [f for f in filenames if f.endswith((".nbi", ".nbc"))]
            if not files:
                continue
            target = os.path.join(cache_dir, _cache_subpath(os.path.dirname(dirpath)))
            for f in files:
                dst = os.path.join(target, f)
                if not os.path.exists(dst):
                    os.makedirs(target, exist_ok=True)
                    shutil.copyfile(os.path.join(dirpath, f), dst)


def _setup_numba():
    os.environ.setdefault("NUMBA_CPU_NAME", "generic")
    if os.environ.get("MATTING_STUDIO_NUMBA_PREBUILD") or os.environ.get("NUMBA_CACHE_DIR"):
        return
    cache_dir = _numba_cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = cache_dir
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        try:
            _seed_cache(bundle, cache_dir)
        except OSError:
            pass  # no seed: numba compiles on first use instead


_setup_numba()
