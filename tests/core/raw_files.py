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
