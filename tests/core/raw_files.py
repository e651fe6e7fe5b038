"""DNG files written here, for the RAW tests: a known scene (grey background, red / green /
blue patches, a yellow marker at the top left) mosaicked through an RGGB colour filter array,
tinted by an as-shot white balance, with the DNG tags LibRaw needs. No camera file is copied
into the repository; the colour matrix makes the "camera" see linear sRGB, so the developed
colours can be checked."""

from __future__ import annotations

import io

import numpy as np
import tifffile

# XYZ (D65) → linear sRGB: the DNG ColorMatrix of a camera whose native space is linear sRGB
XYZ_TO_SRGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])
AS_SHOT_NEUTRAL = (0.5, 1.0, 0.7)
"""What a neutral grey reads in this camera (R, G, B): developing must undo the tint."""
W, H = 128, 96


def scene() -> np.ndarray:
    """Linear sRGB, (H, W, 3) float64 in 0..1, upright."""
    s = np.full((H, W, 3), 0.18)
    s[:16, :24] = (0.8, 0.8, 0.05)  # yellow marker, top left
    s[30:70, 10:40] = (0.6, 0.04, 0.04)  # red
    s[30:70, 50:80] = (0.04, 0.5, 0.04)  # green
    s[30:70, 90:120] = (0.04, 0.06, 0.6)  # blue
    yy, xx = np.mgrid[0:16, 0:W]
    s[80:96] = (0.02 + 0.5 * xx / W + 0.01 * yy)[:, :, None]  # a grey ramp: many levels
    return s


def _stored(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The sensor's layout of an upright scene for a TIFF/EXIF orientation (1, 3, 6 or 8)."""
    return {1: upright, 3: upright[::-1, ::-1], 6: np.rot90(upright, k=1),
            8: np.rot90(upright, k=-1)}[orientation]


def _rational(values, signed=False):
    out = []
    for v in values:
        out += [int(round(v * 10000)), 10000]
    return out


def make_dng(orientation: int = 1, bits: int = 12, make: str = "Matting Studio",
             model: str = "Test DNG", preview: bool = False) -> bytes:
    """DNG bytes of :func:`scene` as seen by the camera described above. ``preview``: the
    first directory is an 8-bit RGB preview (stored like the sensor, as cameras do) and the
    sensor data is in its SubIFD."""
    stored = _stored(scene(), orientation)
    h, w = stored.shape[:2]
    white = (1 << bits) - 1
    cam = stored * np.array(AS_SHOT_NEUTRAL)  # the camera's tint before white balance
    cfa = np.empty((h, w))
    cfa[0::2, 0::2] = cam[0::2, 0::2, 0]  # R G
    cfa[0::2, 1::2] = cam[0::2, 1::2, 1]  # G B
    cfa[1::2, 0::2] = cam[1::2, 0::2, 1]
    cfa[1::2, 1::2] = cam[1::2, 1::2, 2]
    data = np.clip(np.rint(cfa * white), 0, white).astype(np.uint16)
    main = [
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (274, "H", 1, orientation, True),
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, f"{make} {model}", True),  # UniqueCameraModel
        (50721, "2i", 9, _rational(XYZ_TO_SRGB.ravel()), True),  # ColorMatrix1
        (50728, "2I", 3, _rational(AS_SHOT_NEUTRAL), True),  # AsShotNeutral
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
    ]
    sensor = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern RGGB
        (50717, "I", 1, white, True),  # WhiteLevel
    ]
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tw:
        if preview:
            small = np.clip(stored, 0, 1) ** (1 / 2.2) * 255
            tw.write(small.astype(np.uint8), photometric="rgb", subfiletype=1, subifds=1,
                     extratags=main, metadata=None, software=False)
            tw.write(data, photometric=32803, subfiletype=0, extratags=sensor, metadata=None,
                     software=False)
        else:
            tw.write(data, photometric=32803, subfiletype=0, extratags=main + sensor,
                     metadata=None, software=False)
    return buf.getvalue()


def make_dng_with_jpeg_preview(orientation: int = 6) -> bytes:
    """A DNG whose first directory is a JPEG preview (as most cameras embed one), stored like
    the sensor, the sensor data in its SubIFD. Written by hand: tifffile needs imagecodecs to
    write JPEG-compressed strips."""
    import struct

    from PIL import Image

    stored = _stored(scene(), orientation)
    h, w = stored.shape[:2]
    small = (np.clip(stored, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)
    jbuf = io.BytesIO()
    Image.fromarray(small).save(jbuf, "JPEG", quality=95)
    jpeg = jbuf.getvalue()
    white = 4095
    cam = stored * np.array(AS_SHOT_NEUTRAL)
    cfa = np.empty((h, w))
    cfa[0::2, 0::2], cfa[0::2, 1::2] = cam[0::2, 0::2, 0], cam[0::2, 1::2, 1]
    cfa[1::2, 0::2], cfa[1::2, 1::2] = cam[1::2, 0::2, 1], cam[1::2, 1::2, 2]
    sensor = np.clip(np.rint(cfa * white), 0, white).astype("<u2").tobytes()

    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    types = {"B": (1, 1), "A": (2, 1), "H": (3, 2), "I": (4, 4), "R": (5, 8), "r": (10, 8)}

    def blob(data: bytes) -> int:
        if len(out) % 2:
            out.append(0)
        at = len(out)
        out.extend(data)
        return at

    def pack(kind: str, values) -> bytes:
        if kind == "A":
            return values.encode("ascii") + b"\x00"
        if kind in "Rr":
            fmt = "<ii" if kind == "r" else "<II"
            return b"".join(struct.pack(fmt, int(round(v * 10000)), 10000) for v in values)
        return b"".join(struct.pack("<" + kind, v) for v in values)

    def ifd(entries: list[tuple[int, str, object]]) -> int:
        packed = []
        for tag, kind, values in sorted(entries, key=lambda e: e[0]):
            values = values if isinstance(values, (list, tuple, str)) else [values]
            data = pack(kind, values)
            count = len(data) // types[kind][1]
            packed.append((tag, kind, count, data))
        body = [(tag, kind, count, data if len(data) <= 4 else blob(data))
                for tag, kind, count, data in packed]
        at = blob(b"")
        out.extend(struct.pack("<H", len(body)))
        for tag, kind, count, data in body:
            field = data.ljust(4, b"\x00") if isinstance(data, bytes) else struct.pack("<I", data)
            out.extend(struct.pack("<HHI", tag, types[kind][0], count) + field)
        out.extend(b"\x00\x00\x00\x00")
        return at

    jpeg_at, sensor_at = blob(jpeg), blob(sensor)
    raw_ifd = ifd([(254, "I", 0), (256, "I", w), (257, "I", h), (258, "H", 16), (259, "H", 1),
                   (262, "H", 32803), (273, "I", sensor_at), (277, "H", 1), (278, "I", h),
                   (279, "I", len(sensor)), (284, "H", 1), (33421, "H", (2, 2)),
                   (33422, "B", (0, 1, 1, 2)), (50717, "I", white)])
    first = ifd([(254, "I", 1), (256, "I", w), (257, "I", h), (258, "H", (8, 8, 8)),
                 (259, "H", 7), (262, "H", 6), (271, "A", "Matting Studio"), (272, "A", "JPEG"),
                 (273, "I", jpeg_at), (274, "H", orientation), (277, "H", 3), (278, "I", h),
                 (279, "I", len(jpeg)), (330, "I", raw_ifd), (50706, "B", (1, 4, 0, 0)),
                 (50708, "A", "Matting Studio JPEG"), (50721, "r", list(XYZ_TO_SRGB.ravel())),
                 (50728, "R", AS_SHOT_NEUTRAL), (50778, "H", 21)])
    out[4:8] = struct.pack("<I", first)
    return bytes(out)
