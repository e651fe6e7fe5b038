"""Colours a user can name: ``#rrggbb`` / ``#rgb`` or a CSS / X11 colour name ("white").

Parsing is Pillow's (:func:`PIL.ImageColor.getrgb`, the 148 CSS colour names and the usual
``rgb()`` / ``hsl()`` forms); this module adds the one-line message, a suggestion for a
mistyped name, and refuses colours with transparency (a background is opaque).
"""

from __future__ import annotations

import difflib

from PIL import ImageColor

from .limits import LimitError

RGB8 = tuple[int, int, int]

WHITE: RGB8 = (255, 255, 255)


class ColourError(LimitError):
    """Text that is not an opaque colour; ``str(err)`` says why, in one line."""


def parse_colour(text: str | RGB8 | list, what: str = "the colour") -> RGB8:
    """``text`` as an 8-bit sRGB triple; :class:`ColourError` naming ``what`` otherwise.

    Accepts ``#rrggbb``, ``#rgb``, CSS / X11 names (any case, spaces ignored), ``rgb(…)``,
    ``hsl(…)``, or an (r, g, b) sequence of whole numbers 0–255.
    """
    if isinstance(text, (tuple, list)):
        if len(text) == 3 and all(isinstance(v, int) and not isinstance(v, bool)
                                  and 0 <= v <= 255 for v in text):
            return (int(text[0]), int(text[1]), int(text[2]))
        raise ColourError(f"{what} must be three whole numbers from 0 to 255 (got "
                          f"{str(list(text))[:40]})")
    if not isinstance(text, str):
        raise ColourError(f"{what} must be a colour such as #ffffff or white")
    spec = "".join(text.split())
    if not spec or len(spec) > 64:
        raise ColourError(f"{what}: {text[:40]!r} is not a colour; use #rrggbb or a name such "
                          "as white")
    try:
        rgb = ImageColor.getrgb(spec.lower() if not spec.startswith("#") else spec)
    except ValueError:
        raise ColourError(_unknown(spec, what)) from None
    if len(rgb) == 4:
        if rgb[3] != 255:
            raise ColourError(f"{what} must be opaque ({text[:40]!r} has transparency)")
        rgb = rgb[:3]
    return (int(rgb[0]), int(rgb[1]), int(rgb[2]))


def _unknown(spec: str, what: str) -> str:
    if spec.startswith("#"):
        return (f"{what}: {spec[:40]!r} is not a colour; write it as #rrggbb (six hex digits, "
                "e.g. #ffffff)")
    close = difflib.get_close_matches(spec.lower(), ImageColor.colormap, n=3, cutoff=0.7)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return (f"{what}: {spec[:40]!r} is not a colour name{hint}; use #rrggbb or a name such "
            "as white, black or lightgrey")


def colour_to_hex(rgb: RGB8) -> str:
    """``#rrggbb`` of an 8-bit triple (how projects and dialogs store a colour)."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)
