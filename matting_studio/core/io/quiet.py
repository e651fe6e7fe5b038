"""Native libraries' complaints about files we handle stay out of stderr (logged at debug).

* Pillow reports oddities of a file (truncated EXIF, odd chunks) as Python warnings:
  :func:`warnings_to_debug` records them while a file is decoded and logs them at debug.
* OpenCV logs through its own logger ("[ERROR] ... TIFF_Error ..." for a damaged TIFF we then
  refuse with one line): :func:`quiet_opencv` sets its log level to errors that are not ours to
  handle (FATAL), or leaves it as it was when the user set ``OPENCV_LOG_LEVEL`` or asked for
  our debug output.
* libpng's own warnings ("iCCP: known incorrect sRGB profile") reach stderr from OpenCV's PNG
  decoder, which installs no warning handler; the fast PNG path therefore hands OpenCV only the
  chunks it needs for the pixels (IHDR, IDAT, IEND), see :mod:`.png`. The profile is read and
  checked by Pillow, not libpng.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator

log = logging.getLogger(__name__)

_configured = False


def quiet_opencv(force: bool = False) -> None:
    """Once per process: OpenCV logs only fatal errors, unless ``OPENCV_LOG_LEVEL`` is set or
    our logger shows debug output (then OpenCV keeps its warnings too)."""
    global _configured
    if _configured and not force:
        return
    _configured = True
    if os.environ.get("OPENCV_LOG_LEVEL"):
        return
    try:
        import cv2

        if logging.getLogger("matting_studio").isEnabledFor(logging.DEBUG):
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_WARNING)
        else:
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_FATAL)
    except (ImportError, AttributeError):  # pragma: no cover - very old OpenCV
        pass


@contextlib.contextmanager
def warnings_to_debug(name: str) -> Iterator[None]:
    """Python warnings raised inside (Pillow's about a file) are logged at debug, not shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                log.debug("%s: %s: %s", name, w.category.__name__, w.message)
