"""Undo commands: thin ``QUndoCommand`` wrappers over :class:`~matting_studio.core.document.Document` edits.

Each command changes the document and then calls ``on_change()`` so the window can refresh the
trimap and queue a new matte.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from ..core.document import Document
from ..core.pipeline import PipelineSettings
from ..core.trimap import Stroke

_LABELS = {"foreground": "foreground stroke", "background": "background stroke",
           "unknown": "unknown stroke"}


class AddStrokeCommand(QUndoCommand):
    def __init__(self, doc: Document, stroke: Stroke, on_change: Callable[[], None]):
        super().__init__(f"Paint {_LABELS.get(stroke.mode, 'stroke')}")
        self.doc, self.stroke, self.on_change = doc, stroke, on_change
        self.index: int | None = None

    def redo(self) -> None:
        self.index = self.doc.add_stroke(self.stroke)
        self.on_change()

    def undo(self) -> None:
        if self.index is not None:
            self.doc.remove_stroke(self.index)
        self.on_change()


class ResetStrokesCommand(QUndoCommand):
    """Back to the automatic trimap (undoable)."""

    def __init__(self, doc: Document, on_change: Callable[[], None]):
        super().__init__("Reset to automatic trimap")
        self.doc, self.on_change = doc, on_change
        self.old: tuple[Stroke, ...] = ()

    def redo(self) -> None:
        self.old = self.doc.reset()
        self.on_change()

    def undo(self) -> None:
        self.doc.replace_strokes(self.old)
        self.on_change()


class TrimapSettingsCommand(QUndoCommand):
    """Change how the automatic trimap is made; consecutive changes merge into one step."""

    ID = 1001

    def __init__(self, doc: Document, settings: PipelineSettings, on_change: Callable[[], None]):
        super().__init__("Change trimap settings")
        self.doc, self.new, self.on_change = doc, settings, on_change
        self.old = doc.settings

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, TrimapSettingsCommand) or other.doc is not self.doc:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.set_settings(self.new)
        self.on_change()

    def undo(self) -> None:
        self.doc.set_settings(self.old)
        self.on_change()
