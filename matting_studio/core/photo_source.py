"""Is a project's photo still there, and is it the same picture? (No Qt here.)

A project refers to its photos by path *and* by content (size + SHA-256), so a photo that was
moved or renamed is found again by its bytes, a photo that was edited is told apart from the
one the strokes were drawn on, and a photo the user locates by hand is checked before the
strokes are put on it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .io import display_name

SourceState = Literal["ok", "moved", "changed", "missing"]

MAX_SEARCH_ENTRIES = 20_000
MAX_SEARCH_DEPTH = 4


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (bounded memory for any file size)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """What identifies a photo's bytes: its size and SHA-256 (lower-case hex)."""

    size: int
    sha256: str

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> Fingerprint:
        """The fingerprint of the file at ``path`` (OSError when it cannot be read)."""
        return cls(Path(path).stat().st_size, file_sha256(path))

    def matches(self, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` is a readable file with exactly these bytes (size checked first,
        so files of another size are never hashed)."""
        p = Path(path)
        try:
            return p.is_file() and p.stat().st_size == self.size and \
                file_sha256(p) == self.sha256.lower()
        except OSError:
            return False


@dataclass(frozen=True)
class SourceStatus:
    """Where a photo is now. ``path`` is the file to open (None when missing)."""

    state: SourceState
    path: Path | None
    message: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def usable(self) -> bool:
        """True when ``path`` holds the very photo the strokes were drawn on."""
        return self.state in ("ok", "moved")


def check_source(saved_path: str | os.PathLike[str], fingerprint: Fingerprint | None,
                 project_file: str | os.PathLike[str] | None = None,
                 relative_path: str | None = None,
                 search_dirs: Iterable[str | os.PathLike[str]] = ()) -> SourceStatus:
    """Find a photo and check that it is the same picture.

    Looks at ``saved_path``; if the file is gone (or differs), looks for a file with the same
    content: at ``relative_path`` from the project file, beside the project file, under the
    project's folder (a few levels deep) and under ``search_dirs``. Only files of the right
    size are hashed, so the search stays quick. Without a ``fingerprint`` (never read) only
    the saved path is looked at.
    """
    saved = Path(saved_path)
    name = display_name(saved)
    if fingerprint is None:
        if saved.is_file():
            return SourceStatus("ok", saved, f"{name}: found")
        return SourceStatus(
            "missing", None,
            f"The photo {name} cannot be found at {saved.parent}. Locate it to continue.")
    changed = False
    if saved.is_file():
        if fingerprint.matches(saved):
            return SourceStatus("ok", saved, f"{name}: found, unchanged")
        changed = True
    for candidate in _candidates(saved, fingerprint.size, project_file, relative_path,
                                 search_dirs):
        if fingerprint.matches(candidate):
            return SourceStatus(
                "moved", candidate,
                f"The photo {name} is no longer at {display_name(saved.parent)}; the same "
                f"photo (identical content) was found at {candidate}. The project will use it.")
    if changed:
        return SourceStatus(
            "changed", saved,
            f"The photo {name} has been changed since this project was saved (it was edited "
            "or replaced). Your strokes may no longer line up with it. Open it anyway, or "
            "locate the original photo.")
    return SourceStatus(
        "missing", None,
        f"The photo {name} cannot be found at {saved.parent}. It may have been moved, renamed "
        "or deleted, or be on a drive that is not connected. Locate it to continue.")


def check_located(path: str | os.PathLike[str], fingerprint: Fingerprint | None,
                  saved_name: str) -> SourceStatus:
    """A photo the user picked by hand in place of a missing one: ``ok`` when it has the
    saved bytes, ``changed`` when it is another file (the caller asks before using it)."""
    p = Path(path)
    if fingerprint is None or fingerprint.matches(p):
        return SourceStatus("ok", p, f"{display_name(p)}: the same photo as {saved_name}")
    return SourceStatus(
        "changed", p,
        f"{display_name(p)} is not the photo {saved_name} this project was made with (its "
        "content differs). Your strokes may not line up with it.")


def _candidates(saved: Path, size: int, project_file, relative_path: str | None,
                search_dirs) -> Iterator[Path]:
    seen: set[str] = set()

    def fresh(p: Path) -> bool:
        key = os.path.normcase(str(p.absolute()))
        if key in seen or p == saved:
            return False
        seen.add(key)
        return True

    roots: list[Path] = []
    if project_file:
        folder = Path(project_file).parent
        if relative_path:
            rel = folder / relative_path
            if fresh(rel):
                yield rel
        beside = folder / saved.name
        if fresh(beside):
            yield beside
        roots.append(folder)
    roots.extend(Path(d) for d in search_dirs)
    for root in roots:
        direct = root / saved.name
        if fresh(direct):
            yield direct
    # Same name anywhere below first (cheap), then any file of the right size.
    by_size = []
    budget = MAX_SEARCH_ENTRIES
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            depth = len(Path(dirpath).relative_to(root).parts)
            if depth >= MAX_SEARCH_DEPTH:
                dirnames[:] = []
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for fn in filenames:
                budget -= 1
                if budget < 0:
                    break
                p = Path(dirpath) / fn
                if fn == saved.name:
                    if fresh(p):
                        yield p
                else:
                    by_size.append(p)
            if budget < 0:
                break
    for p in by_size:
        try:
            if p.stat().st_size == size and fresh(p):
                yield p
        except OSError:
            continue
