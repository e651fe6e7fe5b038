"""Load photos into float32 RGB (EXIF orientation applied, metadata kept) and write files atomically.

Every failure is an :class:`ImageLoadError` (reading) or :class:`ExportError` (writing) whose
message names the file and says what is wrong in words a photographer understands.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from .errors import ExportError, ImageLoadError

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 200_000_000
"""Largest image we decode (200 MP, beyond any current camera). Protects against decompression bombs."""

SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")

# Pillow's own bomb check would fire before ours with a less helpful message.
Image.MAX_IMAGE_PIXELS = None

_ORIENTATION_TAG = 0x0112


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photo.

    Attributes
    ----------
    rgb : float32 array, shape (h, w, 3), values 0..1, EXIF orientation already applied.
    source_alpha : float32 array (h, w) in 0..1, or None when the file had no alpha channel.
    bit_depth : 8 or 16, the precision per channel of the source file.
    icc_profile : the embedded ICC profile (RGB files), or None.
    exif : EXIF block with orientation reset to 1 (pixels are already upright), or None.
    """

    rgb: np.ndarray
    source_alpha: np.ndarray | None
    bit_depth: int
    icc_profile: bytes | None
    exif: bytes | None
    path: Path | None = None
    format: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


def max_pixels() -> int:
    """Pixel limit, overridable with the ``MATTING_STUDIO_MAX_PIXELS`` environment variable."""
    try:
        return int(os.environ.get("MATTING_STUDIO_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    except ValueError:
        return DEFAULT_MAX_PIXELS


def load_image(path: str | os.PathLike[str], limit: int | None = None) -> LoadedImage:
    """Read an image file (JPEG, PNG 8/16-bit, TIFF, WebP, BMP, first frame of GIF).

    Raises
    ------
    ImageLoadError
        With a one-line message naming the file.
    """
    path = Path(path)
    name = path.name or str(path)
    data = _read_bytes(path, name)
    return decode_image(data, name=name, path=path, limit=limit)


def decode_image(
    data: bytes, name: str = "image", path: Path | None = None, limit: int | None = None
) -> LoadedImage:
    """Decode image bytes; see :func:`load_image`."""
    limit = max_pixels() if limit is None else limit
    if not data:
        raise ImageLoadError(f"{name}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageLoadError(
            f"{name}: not an image file Matting Studio can read "
            "(supported: JPEG, PNG, TIFF, WebP, BMP, GIF)"
        ) from None
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageLoadError(f"{name}: the file is damaged or unreadable ({_short(e)})") from None

    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageLoadError(f"{name}: the image has no pixels ({w}×{h})")
    if w * h > limit:
        raise ImageLoadError(
            f"{name}: the image is too large ({w}×{h} = {w * h / 1e6:.0f} MP; the limit is "
            f"{limit / 1e6:.0f} MP)"
        )
    fmt = (im.format or "").upper()
    try:
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)
        exif = im.getexif()
        orientation = int(exif.get(_ORIENTATION_TAG, 1) or 1)
        icc = im.info.get("icc_profile") or None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.load()
        pixels, alpha, depth, icc = _pixels(im, data, fmt, icc)
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to open this image ({w}×{h})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        msg = str(e)
        if "truncated" in msg or "broken" in msg.lower() or isinstance(e, EOFError):
            raise ImageLoadError(f"{name}: the file is truncated or damaged") from None
        raise ImageLoadError(f"{name}: the file is damaged or unreadable ({_short(e)})") from None

    pixels = apply_orientation(pixels, orientation)
    if alpha is not None:
        alpha = apply_orientation(alpha, orientation)
    exif_bytes = None
    if len(exif):
        try:
            exif[_ORIENTATION_TAG] = 1
            exif_bytes = exif.tobytes()
        except Exception:  # noqa: BLE001 - malformed EXIF is dropped, not fatal
            log.warning("%s: EXIF block could not be re-encoded and will not be exported", name)
    rgb = np.ascontiguousarray(pixels, dtype=np.float32)
    log.info("loaded %s: %d×%d, %d-bit, %s", name, rgb.shape[1], rgb.shape[0], depth, fmt)
    return LoadedImage(
        rgb=rgb,
        source_alpha=None if alpha is None else np.ascontiguousarray(alpha, dtype=np.float32),
        bit_depth=depth,
        icc_profile=icc,
        exif=exif_bytes,
        path=path,
        format=fmt,
    )


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        if path.is_dir():
            raise ImageLoadError(f"{name}: is a folder, not an image file")
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(f"{name}: file not found ({path})") from None
    except PermissionError:
        raise ImageLoadError(f"{name}: permission denied") from None
    except OSError as e:
        raise ImageLoadError(f"{name}: cannot be read ({_short(e)})") from None


def _png_bit_depth(data: bytes) -> int:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24:
        return data[24]
    return 8


def _is_16_bit(im: Image.Image, data: bytes, fmt: str) -> bool:
    if im.mode.startswith("I;16"):
        return True
    if fmt == "PNG":
        return _png_bit_depth(data) == 16 and im.mode in ("RGB", "RGBA", "I", "LA", "L")
    if fmt == "TIFF":
        bits = im.tag_v2.get(258) if hasattr(im, "tag_v2") else None
        if isinstance(bits, tuple):
            bits = bits[0] if bits else None
        return bits == 16
    return False


def _pixels(
    im: Image.Image, data: bytes, fmt: str, icc: bytes | None
) -> tuple[np.ndarray, np.ndarray | None, int, bytes | None]:
    """Return (rgb float 0..1, alpha or None, bit depth, icc to keep)."""
    if _is_16_bit(im, data, fmt):
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if decoded is not None and decoded.dtype == np.uint16:
            arr = decoded.astype(np.float32) / 65535.0
            if arr.ndim == 2:
                return np.repeat(arr[:, :, None], 3, axis=2), None, 16, icc
            if arr.shape[2] == 4:
                return arr[:, :, 2::-1], arr[:, :, 3], 16, icc
            if arr.shape[2] == 3:
                return arr[:, :, ::-1], None, 16, icc
            if arr.shape[2] == 2:
                return np.repeat(arr[:, :, :1], 3, axis=2), arr[:, :, 1], 16, icc
        if im.mode.startswith("I;16") or im.mode == "I":
            arr = np.asarray(im, dtype=np.float32) / 65535.0
            return np.repeat(np.clip(arr, 0, 1)[:, :, None], 3, axis=2), None, 16, icc

    mode = im.mode
    if mode == "CMYK":
        rgb_im = _cmyk_to_rgb(im, icc)
        return np.asarray(rgb_im, dtype=np.float32) / 255.0, None, 8, None
    if mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        hi = float(arr.max()) if arr.size else 1.0
        arr = arr / (65535.0 if hi > 255 else 255.0)
        return np.repeat(np.clip(arr, 0, 1)[:, :, None], 3, axis=2), None, 8, icc
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in im.info
    )
    if has_alpha:
        arr = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        return arr[:, :, :3], arr[:, :, 3], 8, icc if mode.startswith("RGB") else None
    if mode != "RGB":
        # Grey, palette, YCbCr, LAB, 1-bit: convert; a grey or palette ICC no longer applies.
        icc = icc if mode in ("RGB", "YCbCr") else None
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.float32) / 255.0, None, 8, icc


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            return ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        except Exception:  # noqa: BLE001 - fall back to the naive conversion below
            log.warning("CMYK ICC conversion failed; using a naive CMYK→RGB conversion")
    return im.convert("RGB")


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip ``arr`` (h, w[, c]) so that an EXIF ``orientation`` (1..8) becomes upright."""
    if orientation == 2:
        return arr[:, ::-1]
    if orientation == 3:
        return arr[::-1, ::-1]
    if orientation == 4:
        return arr[::-1, :]
    if orientation == 5:
        return np.swapaxes(arr, 0, 1)
    if orientation == 6:
        return np.rot90(arr, k=-1)
    if orientation == 7:
        return np.swapaxes(arr, 0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(arr, k=1)
    return arr


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:160]


# --------------------------------------------------------------------------------------------
# Writing


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when both paths name the same file (resolving links; missing files compare by path)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


def write_atomic(
    path: str | os.PathLike[str], data: bytes, protect: tuple[str | os.PathLike[str], ...] = ()
) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    ``protect`` lists files (the user's originals) that must never be replaced. On any failure
    no partial file is left behind and :class:`ExportError` explains why.
    """
    path = Path(path)
    name = path.name
    for p in protect:
        if same_file(path, p):
            raise ExportError(f"{name}: refusing to overwrite the original photo; choose another name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"{name}: the folder {folder} does not exist")
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=".part", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "file is read-only")
        os.replace(tmp_name, path)
        tmp_name = None
    except PermissionError:
        raise ExportError(f"{name}: cannot write here, permission denied ({folder})") from None
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise ExportError(f"{name}: the disk is full; nothing was written") from None
        if e.errno == errno.EROFS:
            raise ExportError(f"{name}: the folder is on a read-only disk") from None
        if e.errno == errno.ENAMETOOLONG:
            raise ExportError(f"{name}: the file name is too long") from None
        raise ExportError(f"{name}: could not be written ({_short(e)})") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    return path


def load_grey(path: str | os.PathLike[str], what: str = "image") -> np.ndarray:
    """Read a single-channel uint8 image (a trimap or mask), EXIF orientation applied."""
    img = load_image(path)
    grey = img.rgb.mean(axis=2) if img.rgb.ndim == 3 else img.rgb
    log.debug("loaded %s %s as grey", what, Path(path).name)
    return np.clip(np.rint(grey * 255.0), 0, 255).astype(np.uint8)
