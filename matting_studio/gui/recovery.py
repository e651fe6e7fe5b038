"""Autosave, crash recovery, projects and "unsaved changes?" for the editor (Qt glue only).

All the logic lives in :mod:`matting_studio.core.project` and :mod:`~matting_studio.core.autosave`; this module connects it to an
:class:`~matting_studio.gui.editor.EditorController` and a window:

* :class:`SessionKeeper` autosaves the document's strokes and settings a moment after each
  change (throttled with a single-shot timer), tracks whether there are unsaved changes,
  saves / opens ``.msproj`` projects and restores recovered work.
* :func:`install` hooks a keeper into a window: the close event asks first when there are
  unsaved changes (via an event filter, so the window class needs no change), and shortly
  after start-up the user is offered to restore work a crashed or killed instance left.

Minimal hook in ``app.run_app`` (not in screenshot mode)::

    from .recovery import install
    win.recovery = install(win)

Dialogs go through :attr:`SessionKeeper.ask` so tests can answer them without a modal loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer

from ..core.autosave import Autosaver, RecoveryItem, discard
from ..core.errors import MattingStudioError
from ..core.photo_source import Fingerprint
from ..core.project import PhotoEdit, Project, load_project, save_project

log = logging.getLogger(__name__)

AUTOSAVE_DELAY_MS = 1500
"""Autosave this long after the last change (a burst of strokes gives one write)."""

# Answers of the dialogs
SAVE, DISCARD, CANCEL, RESTORE, LATER = "save", "discard", "cancel", "restore", "later"


class SessionKeeper(QObject):
    """Keeps the current document recoverable and knows whether it has unsaved changes."""

    def __init__(self, controller, parent: QObject | None = None, data_dir=None,
                 delay_ms: int = AUTOSAVE_DELAY_MS):
        super().__init__(parent)
        self.controller = controller
        self.autosaver = Autosaver(data_dir)
        self.project_path: Path | None = None  # the user's .msproj, once saved or opened
        self.view_state: Callable[[], dict] = dict  # the window may supply zoom/pan etc.
        self.ask: Callable[[str, str, str, tuple[str, ...]], str] = _ask_with_message_box
        self._hash: tuple[str, Fingerprint] | None = None  # the photo's path and fingerprint
        self._saved_state = None
        self._autosaved_state = None
        self._pending: PhotoEdit | None = None  # strokes to put back once the photo is open
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.autosave_now)
        controller.documentOpened.connect(self._on_document)
        controller.trimapChanged.connect(self._on_changed)

    # ------------------------------------------------------------------ state
    def _state(self):
        doc = self.controller.doc
        if doc is None:
            return None
        return (doc.strokes, doc.settings)

    def has_unsaved_changes(self) -> bool:
        state = self._state()
        return state is not None and state != self._saved_state

    def current_project(self) -> Project | None:
        doc = self.controller.doc
        if doc is None or doc.path is None:
            return None
        path = str(Path(doc.path).absolute())
        if self._hash is None or self._hash[0] != path:
            self._hash = (path, Fingerprint.of(path))
        edit = PhotoEdit(source_path=path, fingerprint=self._hash[1], strokes=list(doc.strokes),
                         settings=doc.settings, view=self.view_state())
        return Project(photos=[edit])

    # ------------------------------------------------------------------ signals
    def _on_document(self, doc) -> None:
        self._hash = None
        pending, self._pending = self._pending, None
        if pending is not None and doc.path is not None and \
                Path(doc.path).absolute() == Path(pending.source_path).absolute():
            settings = pending.settings
            if settings != doc.settings and settings.model_path == doc.settings.model_path \
                    and settings.preset == doc.settings.preset:
                doc.set_settings(settings)
            doc.replace_strokes(pending.strokes)
            self._saved_state = None if self.project_path is None else self._state()
            self.controller.trimapChanged.emit()
            self.controller.request_matte()
        else:
            self.project_path = None
            self._saved_state = self._state()
        self._autosaved_state = None

    def _on_changed(self) -> None:
        if self._state() != self._autosaved_state:
            self._timer.start()

    def autosave_now(self) -> bool:
        """Write the autosave if anything changed since the last one. Never raises."""
        self._timer.stop()
        state = self._state()
        if state is None or state == self._autosaved_state:
            return False
        if state == self._saved_state and self._autosaved_state is None:
            return False  # nothing beyond what is on disk already
        try:
            project = self.current_project()
            if project is None:
                return False
            self.autosaver.save(project)
        except (MattingStudioError, OSError) as e:
            log.warning("%s", e)
            return False
        self._autosaved_state = state
        return True

    # ------------------------------------------------------------------ projects
    def save_project(self, path: str | Path | None = None) -> Path | None:
        """Save to ``path`` (or the current project file). Returns the path, None if none."""
        path = Path(path) if path is not None else self.project_path
        project = self.current_project()
        if path is None or project is None:
            return None
        if path.suffix.lower() != ".msproj":
            path = path.with_suffix(".msproj")
        save_project(path, project)  # SessionError on failure: the caller shows it
        self.project_path = path
        self._saved_state = self._state()
        return path

    def open_project(self, path: str | Path, photo: str | Path | None = None) -> str:
        """Open a ``.msproj``: loads its photo (``photo`` overrides where), then its strokes.

        Returns a message for the status bar ("" when all is well); raises SessionError.
        """
        project = load_project(path)
        edit = project.photos[project.current]
        status = edit.find_source(project.path)
        if photo is None:
            if not status.usable:
                from ..core.errors import SessionError

                raise SessionError(status.message)
            photo = status.path
        edit.source_path = str(Path(photo).absolute())
        self._pending = edit
        self.project_path = Path(path)
        self.controller.settings = edit.settings
        self.controller.open(photo)
        return "" if status.ok else status.message

    def restore(self, item: RecoveryItem) -> str:
        """Reopen a recovered autosave; deletes it once handed over. Raises SessionError."""
        edit = item.project.photos[item.project.current]
        status = edit.find_source()
        if not status.usable:
            from ..core.errors import SessionError

            raise SessionError(status.message)
        edit.source_path = str(status.path)
        self._pending = edit
        self.project_path = None
        self.controller.settings = edit.settings
        self.autosaver.adopt(item)  # saved as this session's autosave before the old one goes
        self.controller.open(status.path)
        return "" if status.ok else status.message

    # ------------------------------------------------------------------ lifecycle
    def confirm_close(self, parent=None) -> bool:
        """Ask about unsaved changes; True when the window may close."""
        self.autosave_now()
        if not self.has_unsaved_changes():
            self.autosaver.clear()
            return True
        doc = self.controller.doc
        answer = self.ask("Unsaved changes",
                          f"Save your edits of {doc.name} as a project before closing?",
                          "If you don't save, your strokes are lost.",
                          (SAVE, DISCARD, CANCEL))
        if answer == CANCEL:
            return False
        if answer == SAVE:
            target = self.project_path or _ask_project_path(parent, doc)
            if target is None:
                return False
            try:
                self.save_project(target)
            except MattingStudioError as e:
                self.ask("Cannot save the project", str(e), "", (CANCEL,))
                return False
        self.autosaver.clear()
        return True

    def offer_recovery(self) -> str | None:
        """Offer the newest recoverable work; returns the answer (None: nothing to offer)."""
        items = self.autosaver.list_recoverable()
        if not items:
            return None
        item = items[0]
        more = f" ({len(items) - 1} older autosave(s) are kept too.)" if len(items) > 1 else ""
        answer = self.ask("Restore unsaved work?",
                          "Matting Studio did not close properly last time.",
                          f"Restore {item.description}?{more}", (RESTORE, DISCARD, LATER))
        if answer == RESTORE:
            try:
                note = self.restore(item)
                if note:
                    self.ask("Photo moved", note, "", (LATER,))
            except MattingStudioError as e:
                self.ask("Cannot restore", str(e), "The autosave is kept.", (LATER,))
        elif answer == DISCARD:
            discard(item)
        return answer


class _CloseGuard(QObject):
    def __init__(self, window, keeper: SessionKeeper):
        super().__init__(window)
        self.window, self.keeper = window, keeper

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.window and event.type() == QEvent.Type.Close:
            if not self.keeper.confirm_close(self.window):
                event.ignore()
                return True  # swallowed: the window stays open
        return False


def install(window, data_dir=None, offer: bool = True) -> SessionKeeper:
    """Attach autosave, the close guard and (after start-up) the recovery offer to ``window``.

    ``window.controller`` must be the :class:`EditorController`.
    """
    keeper = SessionKeeper(window.controller, window, data_dir)
    window.installEventFilter(_CloseGuard(window, keeper))
    if offer:
        QTimer.singleShot(300, keeper.offer_recovery)
    return keeper


def _ask_with_message_box(title: str, text: str, info: str, choices: tuple[str, ...]) -> str:
    from PySide6.QtWidgets import QApplication, QMessageBox

    box = QMessageBox(QApplication.activeWindow())
    box.setIcon(QMessageBox.Icon.Question if len(choices) > 1 else QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    if info:
        box.setInformativeText(info)
    labels = {SAVE: ("Save Project…", QMessageBox.ButtonRole.AcceptRole),
              DISCARD: ("Don't Save" if SAVE in choices else "Discard",
                        QMessageBox.ButtonRole.DestructiveRole),
              CANCEL: ("Cancel", QMessageBox.ButtonRole.RejectRole),
              RESTORE: ("Restore", QMessageBox.ButtonRole.AcceptRole),
              LATER: ("Not Now" if RESTORE in choices else "OK",
                      QMessageBox.ButtonRole.RejectRole)}
    buttons = {box.addButton(*labels[c]): c for c in choices}
    box.exec()
    return buttons.get(box.clickedButton(), choices[-1])


def _ask_project_path(parent, doc) -> Path | None:
    from PySide6.QtWidgets import QFileDialog

    start = str(Path(doc.path).with_suffix(".msproj")) if doc.path else "untitled.msproj"
    name, _ = QFileDialog.getSaveFileName(parent, "Save Project", start,
                                          "Matting Studio project (*.msproj)")
    return Path(name) if name else None
