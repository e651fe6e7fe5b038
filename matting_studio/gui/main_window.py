"""The editor window: wires views, brush, side panel, filmstrip, menus and the controller."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QColorDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.io import SUPPORTED_SUFFIXES
from ..core.project import PROJECT_SUFFIX
from ..resources_path import SAMPLE_PHOTO, resource_path
from .actions import build_actions
from .brush_tool import BrushTool
from .editor import EditorController
from .export_dialog import ExportDialog, ask_overwrite
from .filmstrip import Filmstrip, quality_text
from .four_views import FourViews
from .help_dialog import show_about, show_shortcuts
from .qimage import CHECK_HERE_LUTS, TintSource, qimage_to_array
from .settings import AppSettings
from .side_panel import SidePanel

log = logging.getLogger(__name__)

OPEN_FILTER = "Photos and projects ({} *{});;All files (*)".format(
    " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES), PROJECT_SUFFIX)


class MainWindow(QMainWindow):
    """The editor. ``synchronous=True`` runs background jobs inline (tests)."""

    alphaShown = Signal()

    def __init__(self, settings: AppSettings | None = None, synchronous: bool = False,
                 confirm_overwrite=ask_overwrite):
        super().__init__()
        self.setWindowTitle("Matting Studio")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.confirm_overwrite = confirm_overwrite
        self.controller = EditorController(synchronous=synchronous, parent=self)
        self.shown_alpha: np.ndarray | None = None
        self.last_error: tuple[str, str] | None = None
        self.last_export: str | None = None

        # Views -----------------------------------------------------------------
        self.four = FourViews()
        self.photo_view, self.trimap_view = self.four.photo_view, self.four.trimap_view
        self.alpha_view, self.cutout_view = self.four.alpha_view, self.four.cutout_view
        self.views, self.sync, self.panels = self.four.views, self.four.sync, self.four.panels
        self.stack = QStackedWidget()
        self.stack.addWidget(self._welcome_page())
        self.stack.addWidget(self.four)
        self.setCentralWidget(self.stack)

        self.brush = BrushTool(self.sync, size=self.settings.brush_size(), parent=self)
        self.brush.strokeFinished.connect(self.controller.add_stroke)

        # Side panel and filmstrip ------------------------------------------------
        self.panel = SidePanel()
        dock = QDockWidget("Tools", self)
        dock.setObjectName("toolsDock")
        dock.setWidget(self.panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.filmstrip = Filmstrip()
        self.filmstrip_dock = QDockWidget("Shoot", self)
        self.filmstrip_dock.setObjectName("filmstripDock")
        self.filmstrip_dock.setWidget(self.filmstrip)
        self.filmstrip_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                        | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.filmstrip_dock)
        self.filmstrip_dock.setVisible(False)

        # Status bar ------------------------------------------------------------
        sb = self.statusBar()
        self.status_label = QLabel("Open a photo to start")
        # a long message is cut at the right rather than widening the window
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.status_label.setMinimumWidth(0)
        self.autosave_label = QLabel("")
        self.autosave_label.setObjectName("autosaveWarning")
        self.autosave_label.setStyleSheet("color: #e5534b; font-weight: bold;")
        self.autosave_label.setVisible(False)
        self.alpha_label = QLabel("")
        self.alpha_label.setObjectName("alphaState")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setVisible(False)
        self.zoom_label = QLabel("")
        self.size_label = QLabel("")
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.autosave_label)
        sb.addPermanentWidget(self.alpha_label)
        sb.addPermanentWidget(self.progress_bar)
        sb.addPermanentWidget(self.size_label)
        sb.addPermanentWidget(self.zoom_label)

        from .recovery import SessionKeeper

        self.recovery = SessionKeeper(self.controller, self)  # autosave, projects, "save?"
        self.recovery.autosaveProblem.connect(self._on_autosave_problem)
        self.actions_ = build_actions(self)
        self._wire()
        self._restore_settings()
        self._set_editing_enabled(False)

    # ------------------------------------------------------------------ construction
    def _welcome_page(self) -> QWidget:
        w = QWidget()
        w.setObjectName("welcome")
        lay = QVBoxLayout(w)
        lay.addStretch(1)
        title = QLabel("<h1>Matting Studio</h1>"
                       "<p>Drop photos or a folder here, or open them, to cut out their "
                       "subject.</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(title)
        for text, slot in (("Open Photos…", self.open_dialog), ("Open Folder…", self.open_folder),
                           ("Try the Sample Photo", self.open_sample)):
            b = QPushButton(text)
            b.setMinimumWidth(220)
            b.clicked.connect(slot)
            lay.addWidget(b, 0, Qt.AlignmentFlag.AlignCenter)
        lay.addStretch(2)
        return w

    def _wire(self) -> None:
        c, p = self.controller, self.panel
        c.shootChanged.connect(self._on_shoot)
        c.photoChanged.connect(lambda i: self.filmstrip.refresh(c.shoot, i))
        c.currentChanged.connect(self._on_current)
        c.documentOpened.connect(self._on_document)
        c.trimapChanged.connect(self._show_trimap)
        c.alphaChanged.connect(self._show_alpha)
        c.alphaStateChanged.connect(self._show_alpha_state)
        c.busyChanged.connect(self._on_busy)
        c.progress.connect(self._on_progress)
        c.exported.connect(self._on_exported)
        c.error.connect(self.show_error)
        c.undo_group.indexChanged.connect(self._sync_params_from_doc)
        self.filmstrip.photoActivated.connect(c.go_to)
        self.filmstrip.sortChanged.connect(lambda _k: self.filmstrip.rebuild(c.shoot))
        self.sync.zoomChanged.connect(lambda s: self.zoom_label.setText(f"{s * 100:.0f} %"))
        self.brush.modeChanged.connect(self._on_brush_mode)
        self.brush.sizeChanged.connect(self._on_brush_size)
        for mode, b in p.brush_buttons.items():
            b.clicked.connect(lambda _c=False, m=mode: self.brush.set_mode(m))
        p.brushSizeChanged.connect(self.brush.set_size)
        p.trimapParamsChanged.connect(c.set_trimap_params)
        p.trimapPresetChanged.connect(c.set_trimap_preset)
        p.resetRequested.connect(c.reset_trimap)
        p.overlayVisibleChanged.connect(self.set_overlay_visible)
        p.overlayOpacityChanged.connect(self.set_overlay_opacity)
        p.previewBackgroundChanged.connect(self.set_preview_background)
        p.edgesChanged.connect(c.set_edges)
        p.exportRequested.connect(self.export_dialog)
        p.copyRequested.connect(self.copy_cutout)

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.geometry()
        if geometry is not None:
            # Qt fits a window saved on another screen (off it, or larger) into this one
            self.restoreGeometry(geometry)
        else:
            self._first_size()
        state = s.window_state()
        if state is not None:
            self.restoreState(state)
        self.panel.set_brush_mode(self.brush.mode)
        self.panel.set_brush_size(self.brush.size)
        self.panel.set_overlay(s.overlay_visible(), s.overlay_opacity())
        self.set_overlay_visible(s.overlay_visible())
        self.set_overlay_opacity(s.overlay_opacity())
        self.preview_color = QColor(s.preview_color())
        self.set_preview_background(s.preview_background(), ask=False)
        self.panel.set_steps_expanded(s.steps_expanded())
        self.panel.steps_section.toggled.connect(s.set_steps_expanded)

    def _first_size(self) -> None:
        """The first start's window: 1360 × 860 where the screen has room, else as much of the
        screen's free area as there is (a 1280 × 720 laptop), centred."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1360, 860)
            return
        free = screen.availableGeometry()
        w, h = min(1360, free.width()), min(860, free.height())
        self.resize(w, h)
        self.move(free.x() + (free.width() - w) // 2, free.y() + (free.height() - h) // 2)

    def _set_editing_enabled(self, on: bool) -> None:
        """Views and photo actions available (a photo is on screen)."""
        self.stack.setCurrentIndex(1 if on else 0)
        for name in ("export", "export_all", "export_selected", "copy", "reset", "fit",
                     "actual", "zoom_in", "zoom_out", "save_project", "save_project_as",
                     "next_photo", "previous_photo", "check_here"):
            self.actions_[name].setEnabled(on)
        for w in (self.panel.export_button, self.panel.copy_button, self.panel.reset_button):
            w.setEnabled(on)

    def _set_painting(self, allowed: bool, reason: str = "") -> None:
        """Painting is possible only on a loaded photo; otherwise the photo panel says why."""
        self.brush.enabled = allowed
        if not allowed:
            self.brush.cancel()
        self.panels["photo"].set_badge("" if allowed else reason, "stale")

    # ------------------------------------------------------------------ open
    def open_path(self, *paths: str | Path) -> None:
        """Open photos, folders of photos or a project (by any route: dialog, drop, Open
        Recent, the command line). Photos join the shoot: nothing open is lost."""
        projects = [p for p in paths if Path(p).suffix.lower() == PROJECT_SUFFIX]
        if projects:
            self.open_project(projects[0])
            return
        notes = self.controller.open(*paths)
        if notes:
            self.status_label.setText("; ".join(notes))

    def open_dialog(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Open Photos", self.settings.last_folder(),
                                                OPEN_FILTER)
        if names:
            self.open_path(*names)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open Folder", self.settings.last_folder())
        if folder:
            self.settings.set_last_folder(folder)
            self.open_path(folder)

    def open_sample(self) -> None:
        try:
            self.open_path(resource_path(SAMPLE_PHOTO))
        except FileNotFoundError as e:
            self.show_error("Sample photo missing", str(e))

    # ------------------------------------------------------------------ projects
    def open_project(self, path: str | Path) -> None:
        self.recovery.open_project(path)

    def open_project_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open Project", self.settings.last_folder(),
                                              f"Matting Studio project (*{PROJECT_SUFFIX})")
        if name:
            self.open_project(name)

    def save_project(self, save_as: bool = False) -> Path | None:
        """Save the shoot's edits as a ``.msproj`` (asks for a name the first time)."""
        return self.recovery.save_project_interactive(save_as)

    def locate_photo(self) -> None:
        self.recovery.locate_current()

    def _on_autosave_problem(self, problem: str) -> None:
        self.autosave_label.setText("⚠ Not autosaved" if problem else "")
        self.autosave_label.setToolTip(problem)
        self.autosave_label.setVisible(bool(problem))

    # ------------------------------------------------------------------ shoot & navigation
    def _on_shoot(self) -> None:
        shoot = self.controller.shoot
        self.filmstrip.rebuild(shoot)
        self.filmstrip_dock.setVisible(len(shoot) > 1 or self.filmstrip_dock.isVisible())
        if not len(shoot):
            self._set_editing_enabled(False)
            self.setWindowTitle("Matting Studio")

    def next_photo(self, step: int = 1) -> None:
        self.controller.next_photo(step, self.filmstrip.order())

    def _on_current(self, index: int) -> None:
        c = self.controller
        photo, d = c.photo, c.display
        self.setWindowTitle(f"{photo.name} — Matting Studio")
        self._set_editing_enabled(True)
        self.filmstrip.set_current(index)
        self.shown_alpha = None
        self.photo_view.set_source(d.photo)
        self.four.clear_edits()
        self._show_matte_sources()
        self._show_check_here()
        n = len(c.shoot)
        where = f" ({index + 1} of {n})" if n > 1 else ""
        if photo.missing:
            self._set_painting(False, "photo not found: File ▸ Locate Photo…")
            self.status_label.setText(f"{photo.name}{where} cannot be found: File ▸ Locate "
                                      "Photo… shows where it is now (its strokes are kept)")
        else:
            self._set_painting(False, "loading full resolution… (paint when it is ready)")
            self.status_label.setText(f"{photo.name}{where}: loading…")
        self.size_label.setText("")
        QTimer.singleShot(0, self.sync.fit)

    def _on_document(self, doc) -> None:
        c = self.controller
        if doc.path is not None:
            self.settings.add_recent_file(doc.path)
            self.settings.set_last_folder(doc.path.parent)
        refit = not self.photo_view.has_image()
        self.photo_view.set_source(c.display.photo)
        self.panel.set_trimap_settings(doc.settings)
        self._show_model(doc.settings.model_path)
        w, h = doc.shape[1], doc.shape[0]
        self.size_label.setText(f"{w} × {h}")
        self._set_painting(True)
        self.status_label.setText(f"{doc.name}: computing the matte…")
        if refit:
            QTimer.singleShot(0, self.sync.fit)

    # ------------------------------------------------------------------ display
    def _show_trimap(self) -> None:
        c = self.controller
        doc = c.doc
        if doc is None:
            return
        self.four.show_trimap(c.trimap_sources(), c.region)
        self._show_stroke_count()

    def _show_stroke_count(self) -> None:
        doc = self.controller.doc
        n = len(doc.strokes) if doc is not None else 0
        self.actions_["reset"].setEnabled(n > 0)
        self.panel.reset_button.setEnabled(n > 0)
        if doc is not None and self.controller.alpha_is_current():
            self._ready_message()

    def _show_matte_sources(self) -> None:
        self.four.show_matte(self.controller.display.matte)
        self.set_preview_background(self.settings.preview_background(), ask=False)

    def _show_alpha(self) -> None:
        c = self.controller
        doc = c.doc
        if doc is None or doc.result is None:
            return
        self.shown_alpha = doc.result.alpha
        if self.four.show_matte(c.display.matte, c.region):
            self.set_preview_background(self.settings.preview_background(), ask=False)
        self.alphaShown.emit()

    def _show_alpha_state(self, current: bool) -> None:
        doc = self.controller.doc
        preview = not current and doc is not None and doc.result is not None and doc.result.preview
        self.four.set_alpha_state(current, preview)
        self.alpha_label.setText("Alpha up to date" if current else "Alpha out of date")
        self.alpha_label.setProperty("kind", "ok" if current else "stale")
        self.alpha_label.style().unpolish(self.alpha_label)
        self.alpha_label.style().polish(self.alpha_label)
        if current and doc is not None:
            self._ready_message()

    def _ready_message(self) -> None:
        doc = self.controller.doc
        n = len(doc.strokes)
        photo = self.controller.photo
        quality = f" Estimate: {quality_text(photo)}." if photo.quality is not None else ""
        self.status_label.setText(
            f"{doc.name}: ready. {n} stroke{'s' if n != 1 else ''}.{quality} Paint to fix the "
            "trimap, Ctrl+E to export.")

    def _on_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        if not busy:
            self.progress_bar.setValue(0)

    def _on_progress(self, fraction: float, message: str) -> None:
        if fraction >= 1.0:
            self.progress_bar.setVisible(self.controller.is_busy())
            return
        self.progress_bar.setVisible(True)
        self.progress_bar.setValue(round(fraction * 100))
        self.status_label.setText(message[:1].upper() + message[1:] + "…")

    # ------------------------------------------------------------------ brush & view
    def _on_brush_mode(self, mode: str) -> None:
        self.panel.set_brush_mode(mode)
        self.actions_[f"brush_{mode}"].setChecked(True)

    def _on_brush_size(self, size: int) -> None:
        self.panel.set_brush_size(size)
        self.settings.set_brush_size(size)

    def _sync_params_from_doc(self, _index: int = 0) -> None:
        doc = self.controller.doc
        if doc is not None:
            self.panel.set_trimap_settings(doc.settings)
            self._show_model(doc.settings.model_path)

    def _show_model(self, model) -> None:
        self.four.set_model(model)

    def set_overlay_visible(self, on: bool) -> None:
        self.photo_view.overlay.setVisible(on)
        self.panel.overlay_check.blockSignals(True)
        self.panel.overlay_check.setChecked(on)
        self.panel.overlay_check.blockSignals(False)
        self.actions_["overlay"].setChecked(on)
        self.settings.set_overlay_visible(on)

    def set_overlay_opacity(self, percent: int) -> None:
        self.photo_view.overlay.setOpacity(percent / 100.0)
        self.settings.set_overlay_opacity(percent)

    def set_check_here(self, on: bool) -> None:
        """Show the regions the quality estimate marks as "check here" on the photo."""
        self.settings.set_check_here(on)
        self._show_check_here()

    def _show_check_here(self) -> None:
        photo = self.controller.photo
        on = self.settings.check_here()
        self.actions_["check_here"].setChecked(on)
        marks = photo.prepared.quality.overlay if photo is not None and \
            photo.prepared is not None else None
        if not on or marks is None or not marks.any():
            self.photo_view.marks.setVisible(False)
            return
        self.photo_view.marks.set_source(TintSource(marks.view(np.uint8), CHECK_HERE_LUTS,
                                                    image_size=photo.prepared.size))
        self.photo_view.marks.setVisible(True)

    def set_preview_background(self, key: str, ask: bool = True) -> None:
        if key == "color" and ask:
            color = QColorDialog.getColor(self.preview_color, self, "Preview background colour")
            if color.isValid():
                self.preview_color = color
                self.settings.set_preview_color(color.name())
        self.four.set_backdrop(key, self.preview_color)
        self.settings.set_preview_background(key)
        self.panel.set_preview_background(key)

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> None:
        c = self.controller
        if c.doc is None:
            return
        defaults = {k: c.default_export_path(k) for k in ("cutout", "alpha", "trimap")}
        dlg = ExportDialog(defaults, c.doc.path, parent=self,
                           confirm_overwrite=self.confirm_overwrite)
        self._export_dlg = dlg
        if dlg.exec() and dlg.choice() is not None:
            ch = dlg.choice()
            self.settings.set_last_folder(ch.path.parent)
            c.export(ch.path, ch.kind, ch.options)

    def export_all(self, selected_only: bool = False) -> None:
        from .export_all import run_export_all

        indices = self.filmstrip.selected() if selected_only else \
            list(range(len(self.controller.shoot)))
        if not indices and self.controller.shoot.current >= 0:
            indices = [self.controller.shoot.current]
        run_export_all(self, indices)

    def _on_exported(self, path: str) -> None:
        self.last_export = path
        self.progress_bar.setVisible(self.controller.is_busy())
        self.status_label.setText(f"Saved {path}")

    def copy_cutout(self) -> None:
        c = self.controller
        m = c.display.matte
        if c.doc is None or m is None:
            return
        QGuiApplication.clipboard().setImage(m.cutout_source.region(0, m.alpha8.shape[0], 0,
                                                                    m.alpha8.shape[1]))
        self.status_label.setText("Cutout copied to the clipboard")

    def cutout_pixels(self) -> np.ndarray | None:
        """The cut-out shown, as straight RGBA uint8 (tests, the clipboard check)."""
        m = self.controller.display.matte
        if m is None:
            return None
        return qimage_to_array(m.cutout_source.region(0, m.alpha8.shape[0], 0, m.alpha8.shape[1]))

    # ------------------------------------------------------------------ errors & help
    def show_error(self, title: str, message: str) -> None:
        """Non-blocking error dialog; the app keeps running."""
        log.warning("%s: %s", title, message)
        self.last_error = (title, message)
        self.status_label.setText(f"{title}: {message}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, message,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_shortcuts(self) -> None:
        show_shortcuts(self, [a for a in self.actions_.values() if not a.shortcut().isEmpty()])

    def show_about(self) -> None:
        show_about(self)

    # ------------------------------------------------------------------ events
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        files = local_files(event.mimeData())
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(*files)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.recovery.confirm_close(self):
            event.ignore()
            return
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_window_state(self.saveState())
        self.settings.sync()
        self.controller.shutdown()
        super().closeEvent(event)


def local_files(mime) -> list[str]:
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]
