"""Undo commands: thin ``QUndoCommand`` wrappers over :class:`~matting_studio.core.document.Document` edits.

Each photo of a shoot has its own undo stack of these. A command changes its document and then
calls ``on_change(doc)`` so the controller can refresh the trimap and queue a new matte (when
the document is on screen) and note that the photo was edited.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from ..core.document import Document
from ..core.settings import PipelineSettings
from ..core.trimap import Stroke

_LABELS = {"foreground": "subject stroke", "background": "background stroke",
           "unknown": "unsure stroke"}

OnChange = Callable[[Document], None]


class AddStrokeCommand(QUndoCommand):
    def __init__(self, doc: Document, stroke: Stroke, on_change: OnChange):
        super().__init__(f"Paint {_LABELS.get(stroke.mode, 'stroke')}")
        self.doc, self.stroke, self.on_change = doc, stroke, on_change
        self.index: int | None = None

    def redo(self) -> None:
        self.index = self.doc.add_stroke(self.stroke)
        self.on_change(self.doc)

    def undo(self) -> None:
        if self.index is not None:
            self.doc.remove_stroke(self.index)
        self.on_change(self.doc)


class ResetStrokesCommand(QUndoCommand):
    """Back to the automatic trimap (undoable)."""

    def __init__(self, doc: Document, on_change: OnChange):
        super().__init__("Reset to automatic trimap")
        self.doc, self.on_change = doc, on_change
        self.old: tuple[Stroke, ...] = ()

    def redo(self) -> None:
        self.old = self.doc.reset()
        self.on_change(self.doc)

    def undo(self) -> None:
        self.doc.replace_strokes(self.old)
        self.on_change(self.doc)


class SettingsCommand(QUndoCommand):
    """Change the photo's settings (how its trimap is made, or its model); consecutive changes
    of the same kind merge into one step."""

    ID = 1001

    def __init__(self, doc: Document, settings: PipelineSettings, on_change: OnChange,
                 text: str = "Change trimap settings"):
        super().__init__(text)
        self.doc, self.new, self.on_change = doc, settings, on_change
        self.old = doc.settings

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if not isinstance(other, SettingsCommand) or other.doc is not self.doc or \
                other.text() != self.text():
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.set_settings(self.new)
        self.on_change(self.doc)

    def undo(self) -> None:
        self.doc.set_settings(self.old)
        self.on_change(self.doc)
