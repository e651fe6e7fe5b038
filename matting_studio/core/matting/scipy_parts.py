"""The two parts of scipy that ``ifm`` uses, imported for the least start-up time.

A 4 MP cut-out takes ~1.5 s, and importing scipy the plain way costs ~0.45 s of it on the
main thread (GIL-bound, while the photo decodes on the other core):

* ``import scipy.spatial`` also loads Qhull, the distance metrics and the rotations (0.22 s)
  where only the k-d tree is used: :func:`load_ckdtree`;
* ``import scipy.sparse`` builds scipy's array-API copy of the numpy namespace, which walks
  ``dir(numpy)`` and so imports every lazily-loaded numpy submodule: ``numpy.testing``,
  ``numpy.f2py`` (and with it ``importlib.metadata`` and the email package), ``numpy.ma``,
  ``numpy.polynomial``, ``numpy.random``… (0.12 s of the 0.22): :func:`import_sparse`.

Both fall back to the plain import when scipy or numpy are laid out differently.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

_COMPAT = "scipy._lib.array_api_compat.numpy"


def import_sparse() -> ModuleType:
    """``scipy.sparse``, imported while numpy's not-yet-loaded submodules are left out of
    ``numpy.__all__`` and ``dir(numpy)`` (restored right after).

    scipy's copy of the numpy namespace then lacks those submodules as attributes; a
    module ``__getattr__`` hands them over from numpy on first use, so the copy still has
    everything numpy has. Nothing else changes: numpy's own lazy loading is untouched.
    """
    if "scipy.sparse" in sys.modules:
        return sys.modules["scipy.sparse"]
    import numpy

    lazy = getattr(numpy, "__numpy_submodules__", None)
    real_all, real_dir = getattr(numpy, "__all__", None), vars(numpy).get("__dir__")
    if not isinstance(lazy, (set, frozenset)) or not isinstance(real_all, list) \
            or not callable(real_dir) or _COMPAT in sys.modules:
        import scipy.sparse

        return scipy.sparse
    hidden = frozenset(n for n in lazy if f"numpy.{n}" not in sys.modules)
    numpy.__all__ = [n for n in real_all if n not in hidden]
    numpy.__dir__ = lambda: [n for n in real_dir() if n not in hidden]
    try:
        import scipy.sparse
    finally:
        numpy.__all__, numpy.__dir__ = real_all, real_dir
    compat = sys.modules.get(_COMPAT)
    if compat is not None and "__getattr__" not in vars(compat):
        def forward(name: str):
            if name in hidden:
                return getattr(numpy, name)
            raise AttributeError(f"module {_COMPAT!r} has no attribute {name!r}")

        compat.__getattr__ = forward
    return scipy.sparse


def load_ckdtree():
    """scipy's ``cKDTree`` without importing the whole of ``scipy.spatial``.

    ``import scipy.spatial`` also loads Qhull, the distance metrics and the rotations: 0.22 s,
    a seventh of a 4 MP cut-out. The k-d tree is one extension module that needs only numpy
    and scipy.sparse, so it is loaded from its file under its own name; a later ``import
    scipy.spatial`` finds it in ``sys.modules`` and uses the same module. Anything unexpected
    (another scipy layout) falls back to the public import.
    """
    name = "scipy.spatial._ckdtree"
    if "scipy.spatial" not in sys.modules and name not in sys.modules:
        try:
            import importlib.machinery
            import importlib.util

            import scipy

            folder = Path(scipy.__file__).parent / "spatial"
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = folder / f"_ckdtree{suffix}"
                if not path.is_file():
                    continue
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
                return module.cKDTree
        except Exception:  # noqa: BLE001 - the public import below is always right
            log.debug("loading scipy's k-d tree on its own failed", exc_info=True)
    from scipy.spatial import cKDTree

    return cKDTree
