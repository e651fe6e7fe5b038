"""Memory is checked before it is spent: what a photo will need, what this process may have,
and running out turned into one clear line.

:func:`check_photo_fits` is called by the loader as soon as a file's header gives its size,
before any pixel is decoded: the estimate covers the decode and the cut-out after it
(:data:`BYTES_PER_PIXEL`, measured on the command line's cut-out). The memory available is the
smallest of what the machine has free (``MemAvailable``), what this process's cgroup may still
use (containers), and the address space left under ``RLIMIT_AS`` (``ulimit -v``).
``MATTING_STUDIO_MEMORY_CHECK=0`` turns the check off.

:func:`is_out_of_memory` recognises running out anyway (numpy's ``MemoryError``, OpenCV's
"Insufficient memory", a C++ ``std::bad_alloc`` from onnxruntime) so drivers can say so in one
line instead of "unexpected problem".
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

BYTES_PER_PIXEL = 40
"""Peak of a whole cut-out per pixel of the photo (decode, model, trimap, solve, foreground
colours, encoding): the slope of the command line's peak between 4 and 24 MP, rounded up (the
measurement is in ADR 0011)."""
RAW_EXTRA_BYTES_PER_PIXEL = 16
"""LibRaw's own buffers while a RAW file is developed (raw data, 4-channel image, output)."""
MARGIN_BYTES = 256 << 20
"""Headroom on top of the estimate (the allocator, the views, a second photo being decoded)."""


def needed_bytes(width: int, height: int, raw: bool = False) -> int:
    """Estimated peak memory of cutting out a ``width`` × ``height`` photo."""
    per_pixel = BYTES_PER_PIXEL + (RAW_EXTRA_BYTES_PER_PIXEL if raw else 0)
    return int(width) * int(height) * per_pixel + MARGIN_BYTES


def available_bytes() -> int | None:
    """Memory this process may still use, or None when it cannot be told here."""
    found = [v for v in (_mem_available(), _cgroup_room(), _address_space_room())
             if v is not None]
    return min(found) if found else None


def check_photo_fits(name: str, width: int, height: int, raw: bool = False) -> None:
    """:class:`~.errors.ImageLoadError` ("needs about N GB; M GB available") when the photo
    will not fit in the memory this process may use."""
    from .errors import ImageLoadError

    if os.environ.get("MATTING_STUDIO_MEMORY_CHECK", "1").strip() in ("0", "no", "off"):
        return
    need = needed_bytes(width, height, raw)
    have = available_bytes()
    if have is None or need <= have:
        return
    raise ImageLoadError(
        f"{name}: this {width}×{height} photo needs about {_gb(need)} GB of memory to cut out; "
        f"{_gb(have)} GB available (close other programs, or use a smaller photo)")


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f}"


def is_out_of_memory(e: BaseException) -> bool:
    """True for the ways running out of memory surfaces from numpy, OpenCV and onnxruntime."""
    if isinstance(e, MemoryError):
        return True
    text = str(e)
    return any(k in text for k in ("Insufficient memory", "bad_alloc", "Failed to allocate",
                                   "Unable to allocate", "out of memory"))


# --------------------------------------------------------------------------------------------


def _mem_available() -> int | None:
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/meminfo", encoding="ascii") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            return None
        return None
    if sys.platform == "win32":
        return _windows_available()
    try:  # other POSIX systems that have it
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _windows_available() -> int | None:
    import ctypes

    class Status(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong),
                    ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong),
                    ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = Status()
    status.dwLength = ctypes.sizeof(Status)
    try:
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(min(status.ullAvailPhys, status.ullAvailVirtual))
    except (AttributeError, OSError):
        pass
    return None


def _cgroup_room() -> int | None:
    """limit − usage of this process's memory cgroup (v2, else v1), or None without a limit."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        text = Path("/proc/self/cgroup").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        rel = rel.lstrip("/")
        if controllers == "":  # cgroup v2
            base = Path("/sys/fs/cgroup") / rel
            return _room(base / "memory.max", base / "memory.current")
        if "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory") / rel
            room = _room(base / "memory.limit_in_bytes", base / "memory.usage_in_bytes")
            if room is None:
                base = Path("/sys/fs/cgroup/memory")
                room = _room(base / "memory.limit_in_bytes", base / "memory.usage_in_bytes")
            return room
    return None


def _room(limit_file: Path, usage_file: Path) -> int | None:
    try:
        limit_text = limit_file.read_text(encoding="ascii").strip()
        if limit_text == "max":
            return None
        limit = int(limit_text)
        if limit >= 1 << 60:  # cgroup v1's "no limit"
            return None
        usage = int(usage_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return max(limit - usage, 0)


def _address_space_room() -> int | None:
    """RLIMIT_AS minus the address space this process already holds (``ulimit -v``)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = _virtual_size()
    return max(soft - used, 0) if used is not None else soft


def _virtual_size() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
