"""Autosave, crash recovery, projects and "unsaved changes?" for the editor (Qt glue only).

The logic lives in :mod:`..core.project`, :mod:`..core.autosave` and :mod:`..core.shoot`;
:class:`SessionKeeper` connects it to the controller and the window:

* the whole shoot is autosaved a moment after each edit, and never more than
  :data:`AUTOSAVE_MAX_DELAY_MS` after the first edit not on disk yet, even while the user keeps
  painting; a failing autosave shows a lasting warning in the status bar and one dialog;
* opening a project (or recovered work) over unsaved edits asks Save / Don't Save / Cancel,
  as closing does; opening photos adds them to the shoot, so nothing is lost there;
* a photo of a project that cannot be found stays in the shoot with its strokes; Locate…
  checks the file picked by its content before using it.

Dialogs go through :attr:`SessionKeeper.ask` (and :attr:`choose_file`) so tests answer them
without a modal loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.autosave import Autosaver, RecoveryItem, discard
from ..core.errors import MattingStudioError, SessionError
from ..core.photo_source import check_located
from ..core.project import PROJECT_SUFFIX, load_project, save_project
from ..core.shoot import Shoot, ShootPhoto

log = logging.getLogger(__name__)

AUTOSAVE_DELAY_MS = 1500
"""Autosave this long after the last edit (a burst of strokes gives one write)..."""
AUTOSAVE_MAX_DELAY_MS = 4000
"""...but never later than this after the first edit that is not on disk yet."""

# Answers of the dialogs
SAVE, DISCARD, CANCEL, RESTORE, LATER, LOCATE, USE = (
    "save", "discard", "cancel", "restore", "later", "locate", "use")


class SessionKeeper(QObject):
    """Keeps the shoot recoverable and knows whether it has unsaved edits.

    Signals: autosaveProblem(str) — "" when autosaving works (again), else what is wrong.
    """

    autosaveProblem = Signal(str)

    def __init__(self, controller, window=None, data_dir=None,
                 delay_ms: int = AUTOSAVE_DELAY_MS, max_delay_ms: int = AUTOSAVE_MAX_DELAY_MS):
        super().__init__(window)
        self.controller = controller
        self.window = window
        self.autosaver = Autosaver(data_dir)
        self.project_path: Path | None = None  # the user's .msproj, once saved or opened
        self.ask: Callable[[str, str, str, tuple[str, ...]], str] = _ask_with_message_box
        self.choose_file: Callable[[str, str, str, bool], Path | None] = \
            lambda title, start, filt, save: _choose_file(window, title, start, filt, save)
        self.max_delay_ms = max_delay_ms
        self._saved = self._edits()
        self._autosaved = self._saved
        self._first_unsaved: float | None = None
        self._problem = ""
        self._told = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.autosave_now)
        controller.trimapChanged.connect(self._on_changed)
        controller.photoChanged.connect(lambda _i: self._on_changed())
        controller.shootChanged.connect(self._on_changed)

    # ------------------------------------------------------------------ state
    def _edits(self) -> tuple:
        """What the user did, photo by photo: what must not be lost."""
        return tuple((str(p.path), p.strokes, p.settings) for p in self.controller.shoot.photos
                     if p.strokes or p.state != "automatic")

    def has_unsaved_changes(self) -> bool:
        return self._edits() != self._saved

    def current_project(self, fingerprints: bool = False):
        return self.controller.shoot.to_project(fingerprints=fingerprints)

    # ------------------------------------------------------------------ autosave
    def _on_changed(self) -> None:
        if self._edits() == self._autosaved:
            return
        now = time.monotonic()
        if self._first_unsaved is None:
            self._first_unsaved = now
        left = self.max_delay_ms - (now - self._first_unsaved) * 1000.0
        self._timer.start(int(max(0.0, min(self._timer.interval(), left))))

    def autosave_now(self) -> bool:
        """Write the autosave if anything changed since the last one. Never raises; a failure
        is reported through ``autosaveProblem`` (and once in a dialog)."""
        self._timer.stop()
        edits = self._edits()
        if edits == self._autosaved:
            self._first_unsaved = None
            return False
        try:
            self.autosaver.save(self.current_project())
        except (MattingStudioError, OSError) as e:
            self._report(str(e))
            self._first_unsaved = time.monotonic()  # try again within the maximum delay
            self._timer.start(self.max_delay_ms)
            return False
        self._autosaved = edits
        self._first_unsaved = None
        if self._problem:
            self._report("")
        return True

    def _report(self, problem: str) -> None:
        changed = problem != self._problem
        self._problem = problem
        if problem:
            log.warning("%s", problem)
        if changed:
            self.autosaveProblem.emit(problem)
        if problem and not self._told:
            self._told = True
            self.ask("Autosave is not working",
                     "Your edits are not being autosaved, so a crash could lose them.",
                     f"{problem}. Save the project (Ctrl+S) somewhere you can write to.",
                     (LATER,))

    # ------------------------------------------------------------------ projects
    def save_project(self, path: str | Path | None = None) -> Path | None:
        """Save the shoot to ``path`` (or the current project file). Returns the path."""
        path = Path(path) if path is not None else self.project_path
        if path is None or not len(self.controller.shoot):
            return None
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        save_project(path, self.current_project(fingerprints=True))  # SessionError: caller
        self.project_path = path
        self._saved = self._edits()
        return path

    def save_project_interactive(self, save_as: bool = False) -> Path | None:
        """Save, asking for a file name the first time (or for Save As); errors in a dialog."""
        target = None if save_as else self.project_path
        if target is None:
            target = self._ask_project_path()
            if target is None:
                return None
        try:
            saved = self.save_project(target)
        except MattingStudioError as e:
            self.ask("Cannot save the project", str(e), "", (LATER,))
            return None
        if saved is not None and self.window is not None:
            self.window.status_label.setText(f"Project saved: {saved}")
        return saved

    def _ask_project_path(self) -> Path | None:
        photo = self.controller.photo
        start = (photo.path.with_suffix(PROJECT_SUFFIX) if photo is not None
                 else Path("untitled" + PROJECT_SUFFIX))
        while True:
            chosen = self.choose_file("Save Project", str(start),
                                      f"Matting Studio project (*{PROJECT_SUFFIX})", True)
            if chosen is None:
                return None
            # a name without .msproj gets it added (never replaced: photo.jpg → photo.jpg.msproj)
            target = chosen if chosen.suffix.lower() == PROJECT_SUFFIX else \
                chosen.with_name(chosen.name + PROJECT_SUFFIX)
            if not target.exists():
                return target
            answer = self.ask("Replace project?", f"{target.name} already exists.",
                              "Replace it with this project?", (SAVE, CANCEL))
            if answer == SAVE:
                return target

    def confirm_discard(self, doing: str) -> bool:
        """Before replacing the shoot: Save / Don't Save / Cancel when there are unsaved edits.
        True when it may go ahead."""
        self.autosave_now()
        if not self.has_unsaved_changes():
            return True
        n = len(self._edits())
        answer = self.ask("Unsaved changes",
                          f"Save your edits of {n} photo{'s' if n != 1 else ''} as a project "
                          f"before {doing}?", "If you don't save, your strokes are lost.",
                          (SAVE, DISCARD, CANCEL))
        if answer == CANCEL:
            return False
        if answer == SAVE:
            return self.save_project_interactive() is not None
        return True

    def open_project(self, path: str | Path) -> bool:
        """Open a ``.msproj`` in place of the shoot (asking about unsaved edits first)."""
        try:
            project = load_project(path)
        except MattingStudioError as e:
            self.controller.error.emit("Cannot open the project", str(e))
            return False
        if not self.confirm_discard("opening another project"):
            return False
        shoot = Shoot.from_project(project)
        notes = _find_photos(shoot, project.path)
        self._replace(shoot)
        self.project_path = Path(path)
        self._saved = self._autosaved = self._edits()
        if notes and self.window is not None:
            self.window.status_label.setText(" ".join(notes))
        return True

    def _replace(self, shoot: Shoot) -> None:
        self.controller.replace_shoot(shoot)

    # ------------------------------------------------------------------ missing photos
    def locate_current(self) -> bool:
        """Let the user show where the photo on screen is now; its content is checked first."""
        photo = self.controller.photo
        if photo is None:
            return False
        chosen = self.choose_file(f"Locate {photo.name}", str(photo.path.parent),
                                  "Photos (*)", False)
        if chosen is None:
            return False
        fingerprint = photo.fingerprint or (photo.edit.fingerprint if photo.edit else None)
        status = check_located(chosen, fingerprint, photo.name)
        if not status.ok:
            answer = self.ask("Not the same photo", status.message,
                              "Use it anyway? The strokes are kept as they are.", (USE, CANCEL))
            if answer != USE:
                return False
        _relocate(photo, chosen)
        self.controller.go_to(self.controller.shoot.current, reload=True)
        self._on_changed()
        return True

    # ------------------------------------------------------------------ closing & recovery
    def confirm_close(self, parent=None) -> bool:
        """Ask about unsaved changes; True when the window may close."""
        if not self.confirm_discard("closing"):
            return False
        self.autosaver.clear()
        return True

    def offer_recovery(self) -> str | None:
        """Offer every recoverable autosave (newest first); returns the answer (None: nothing
        to offer). Restoring writes the work as this session's autosave before deleting the
        old file."""
        items = self.autosaver.list_recoverable()
        if not items:
            return None
        lines = "\n".join(f"• {i.description}" for i in items[:6])
        more = f"\n… and {len(items) - 6} more" if len(items) > 6 else ""
        answer = self.ask("Restore unsaved work?",
                          "Matting Studio did not close properly last time.",
                          f"Restore the newest work?\n{lines}{more}\n(The others are kept.)",
                          (RESTORE, DISCARD, LATER))
        if answer == RESTORE:
            self.restore(items[0])
        elif answer == DISCARD:
            discard(items[0])
        return answer

    def restore(self, item: RecoveryItem) -> None:
        shoot = Shoot.from_project(item.project)
        notes = _find_photos(shoot, None)
        try:
            self.autosaver.adopt(item)
        except SessionError as e:
            self._report(str(e))
        self._replace(shoot)
        self.project_path = None
        self._saved = ()  # recovered edits are not in any project yet
        self._autosaved = self._edits()
        if notes and self.window is not None:
            self.window.status_label.setText(" ".join(notes))


def _find_photos(shoot: Shoot, project_file) -> list[str]:
    """Point every photo of a loaded project at where it is now (moved photos are found by
    content); a photo that cannot be found is kept, with its strokes, as failed: Locate…"""
    notes = []
    for p in shoot.photos:
        status = p.edit.find_source(project_file)
        if status.usable:
            if status.state == "moved":
                _relocate(p, status.path)
                notes.append(f"{p.name} was found at {status.path}.")
        else:
            p.state, p.error = "failed", status.message
            p.missing = status.state == "missing"
            if p.missing:
                notes.append(f"{p.name} cannot be found: File ▸ Locate Photo… shows where.")
    return notes


def _relocate(photo: ShootPhoto, path: Path) -> None:
    photo.path = Path(path)
    if photo.edit is not None:
        photo.edit.source_path = str(Path(path).absolute())
    photo.state = "edited" if photo.strokes else "automatic"
    photo.error = None
    photo.missing = False


def install(window, data_dir=None, offer: bool = True) -> SessionKeeper:
    """The window's keeper, with the recovery offer shortly after start-up."""
    keeper = window.recovery
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
    labels = {SAVE: ("Save…" if CANCEL in choices and DISCARD in choices else "Replace",
                     QMessageBox.ButtonRole.AcceptRole),
              DISCARD: ("Don't Save" if SAVE in choices else "Discard",
                        QMessageBox.ButtonRole.DestructiveRole),
              CANCEL: ("Cancel", QMessageBox.ButtonRole.RejectRole),
              RESTORE: ("Restore", QMessageBox.ButtonRole.AcceptRole),
              LOCATE: ("Locate…", QMessageBox.ButtonRole.AcceptRole),
              USE: ("Use It", QMessageBox.ButtonRole.AcceptRole),
              LATER: ("Not Now" if RESTORE in choices else "OK",
                      QMessageBox.ButtonRole.RejectRole)}
    buttons = {box.addButton(*labels[c]): c for c in choices}
    box.exec()
    return buttons.get(box.clickedButton(), choices[-1])


def _choose_file(parent, title: str, start: str, filt: str, save: bool) -> Path | None:
    from PySide6.QtWidgets import QFileDialog

    if save:  # we check the name ourselves: the dialog must not offer to replace a photo
        name, _ = QFileDialog.getSaveFileName(
            parent, title, start, filt, options=QFileDialog.Option.DontConfirmOverwrite)
    else:
        name, _ = QFileDialog.getOpenFileName(parent, title, start, filt)
    return Path(name) if name else None
