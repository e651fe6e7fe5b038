"""How files and errors are named in one-line messages."""

from __future__ import annotations

import os
from pathlib import Path


def display_name(path: str | os.PathLike[str]) -> str:
    """The file name as shown in messages: one line, undecodable bytes and controls escaped."""
    p = Path(path)
    text = p.name or str(p)
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        for c in text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    )


def short(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:160]
