"""Menus, toolbar and keyboard shortcuts of the main window (one place, so Help can list them)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar

from .side_panel import BACKGROUND_LABELS, brush_icon


def build_actions(win) -> dict[str, QAction]:
    """Create every action of ``win`` (a MainWindow), its menus and toolbar; return them by name."""
    c = win.controller
    style = win.style()
    acts: dict[str, QAction] = {}

    def act(name, text, slot=None, shortcut=None, icon=None, tip=None, checkable=False):
        a = QAction(text, win)
        a.setObjectName(f"action_{name}")
        if shortcut:
            seqs = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
            a.setShortcuts([QKeySequence(s) for s in seqs])
        if icon is not None:
            a.setIcon(icon)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.setCheckable(checkable)
        if slot is not None:
            (a.toggled if checkable else a.triggered).connect(slot)
        win.addAction(a)
        acts[name] = a
        return a

    sp = QStyle.StandardPixmap
    act("open", "&Open Photos…", win.open_dialog, QKeySequence.StandardKey.Open,
        style.standardIcon(sp.SP_DialogOpenButton),
        "Add photos to the shoot (or drop them on the window)")
    act("open_folder", "Open &Folder…", win.open_folder, "Ctrl+Alt+O", None,
        "Add every photo of a folder to the shoot")
    act("sample", "Open &Sample Photo", win.open_sample, None, None, "Open the bundled sample photo")
    act("open_project", "Open &Project…", win.open_project_dialog, "Ctrl+Shift+O", None,
        "Reopen saved strokes and settings (.msproj)")
    act("save_project", "&Save Project", lambda: win.save_project(), QKeySequence.StandardKey.Save,
        None, "Save every photo's strokes and settings as a re-editable project (.msproj)")
    act("save_project_as", "Save Project &As…", lambda: win.save_project(save_as=True),
        "Ctrl+Shift+S", None, "Save the project under a new name")
    act("export", "&Export…", win.export_dialog, "Ctrl+E",
        style.standardIcon(sp.SP_DialogSaveButton), "Export this photo's cutout, alpha or trimap")
    act("export_all", "Export &All…", lambda: win.export_all(False), "Ctrl+Shift+E", None,
        "Export the cut-outs of every photo of the shoot into a folder")
    act("export_selected", "Export Se&lected…", lambda: win.export_all(True), None, None,
        "Export the cut-outs of the photos selected in the filmstrip")
    act("locate", "&Locate Photo…", win.locate_photo, None, None,
        "Show where a photo that was moved or renamed is now")
    act("next_photo", "&Next Photo", lambda: win.next_photo(1), "PgDown", None,
        "The next photo of the shoot (in the filmstrip's order)")
    act("previous_photo", "&Previous Photo", lambda: win.next_photo(-1), "PgUp", None,
        "The previous photo of the shoot")
    act("copy", "&Copy Cutout", win.copy_cutout, "Ctrl+Shift+C", None,
        "Copy the cutout (with transparency) to the clipboard")
    act("quit", "&Quit", win.close, QKeySequence.StandardKey.Quit)

    undo = c.undo_group.createUndoAction(win, "&Undo")
    undo.setShortcuts([QKeySequence("Ctrl+Z")])
    undo.setIcon(style.standardIcon(sp.SP_ArrowBack))
    redo = c.undo_group.createRedoAction(win, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    redo.setIcon(style.standardIcon(sp.SP_ArrowForward))
    for name, a in (("undo", undo), ("redo", redo)):
        a.setIconText(name.capitalize())  # the toolbar keeps a short label
        a.setProperty("helpText", "Undo (strokes, reset, trimap settings)" if name == "undo" else "Redo")
        a.setObjectName(f"action_{name}")
        win.addAction(a)
        acts[name] = a
    act("reset", "Reset to &Automatic Trimap", c.reset_trimap, "Ctrl+R",
        style.standardIcon(sp.SP_BrowserReload), "Remove all strokes (undoable)")

    group = QActionGroup(win)
    for mode, text, key in (("foreground", "&Subject brush (foreground)", "F"),
                            ("background", "&Background brush", "B"),
                            ("unknown", "&Unsure brush (unknown / hair)", "U")):
        a = act(f"brush_{mode}", text, None, key, brush_icon(mode), f"{text.replace('&', '')}  ({key})",
                checkable=True)
        a.triggered.connect(lambda _c=False, m=mode: win.brush.set_mode(m))
        group.addAction(a)
    acts["brush_foreground"].setChecked(True)
    act("bigger", "Bigger Brush", win.brush.grow, "]")
    act("smaller", "Smaller Brush", win.brush.shrink, "[")

    act("zoom_in", "Zoom &In", lambda: win.sync.zoom_by(1.25), [QKeySequence.StandardKey.ZoomIn, "Ctrl+="])
    act("zoom_out", "Zoom &Out", lambda: win.sync.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
    act("fit", "&Fit to Window", win.sync.fit, "Ctrl+0", None, "Show the whole photo")
    act("actual", "&100 %", win.sync.actual_size, "Ctrl+1", None, "One image pixel per screen pixel")
    act("overlay", "Show Trimap on &Photo", win.set_overlay_visible, "O", checkable=True)
    act("check_here", "Mark Where to &Check", win.set_check_here, "C",
        tip="Tint the regions where the cut-out is most likely wrong", checkable=True)
    strip = win.filmstrip_dock.toggleViewAction()
    strip.setText("Show the &Filmstrip")
    strip.setShortcut(QKeySequence("F6"))
    strip.setObjectName("action_filmstrip")
    win.addAction(strip)
    acts["filmstrip"] = strip
    act("shortcuts", "&Keyboard Shortcuts", win.show_shortcuts, "F1")
    act("about", "&About Matting Studio", win.show_about)

    # Menus ----------------------------------------------------------------------
    mb = win.menuBar()
    m = mb.addMenu("&File")
    m.addAction(acts["open"])
    m.addAction(acts["open_folder"])
    recent = QMenu("Open &Recent", win)
    recent.setObjectName("recentMenu")
    recent.aboutToShow.connect(lambda: _fill_recent(win, recent))
    m.addMenu(recent)
    win.recent_menu = recent
    m.addAction(acts["sample"])
    m.addSeparator()
    m.addAction(acts["open_project"])
    m.addAction(acts["save_project"])
    m.addAction(acts["save_project_as"])
    m.addAction(acts["locate"])
    m.addSeparator()
    m.addAction(acts["export"])
    m.addAction(acts["export_all"])
    m.addAction(acts["export_selected"])
    m.addAction(acts["copy"])
    m.addSeparator()
    m.addAction(acts["quit"])
    m = mb.addMenu("&Edit")
    for n in ("undo", "redo"):
        m.addAction(acts[n])
    m.addSeparator()
    m.addAction(acts["reset"])
    m = mb.addMenu("&Brush")
    for n in ("brush_foreground", "brush_background", "brush_unknown"):
        m.addAction(acts[n])
    m.addSeparator()
    m.addAction(acts["bigger"])
    m.addAction(acts["smaller"])
    m = mb.addMenu("&View")
    for n in ("zoom_in", "zoom_out", "fit", "actual"):
        m.addAction(acts[n])
    m.addSeparator()
    m.addAction(acts["overlay"])
    m.addAction(acts["check_here"])
    m.addSeparator()
    m.addAction(acts["next_photo"])
    m.addAction(acts["previous_photo"])
    m.addAction(acts["filmstrip"])
    bg = m.addMenu("Preview &Background")
    for key, label in BACKGROUND_LABELS:
        bg.addAction(label, lambda k=key: win.set_preview_background(k))
    from .model_menu import build_model_menu

    win.model_menu = build_model_menu(win)
    mb.addMenu(win.model_menu)
    m = mb.addMenu("&Help")
    m.addAction(acts["shortcuts"])
    m.addAction(acts["sample"])
    m.addSeparator()
    m.addAction(acts["about"])

    # Toolbar --------------------------------------------------------------------
    tb = QToolBar("Main", win)
    tb.setObjectName("mainToolbar")
    tb.setIconSize(QSize(18, 18))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tb.setMovable(False)
    for n in ("open", "export"):
        tb.addAction(acts[n])
    tb.addSeparator()
    for n in ("undo", "redo"):
        tb.addAction(acts[n])
    tb.addSeparator()
    for n, short in (("brush_foreground", "Subject (F)"), ("brush_background", "Background (B)"),
                     ("brush_unknown", "Unsure (U)")):
        acts[n].setIconText(short)
        tb.addAction(acts[n])
    tb.addSeparator()
    acts["reset"].setIconText("Reset Trimap")
    for n in ("fit", "reset"):
        tb.addAction(acts[n])
    tb.addSeparator()
    acts["previous_photo"].setIconText("◀ Previous")
    acts["next_photo"].setIconText("Next ▶")
    for n in ("previous_photo", "next_photo"):
        tb.addAction(acts[n])
    win.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    win.toolbar = tb
    return acts


def _fill_recent(win, menu: QMenu) -> None:
    menu.clear()
    files = win.settings.recent_files()
    for f in files:
        a = menu.addAction(Path(f).name, lambda _c=False, p=f: win.open_path(p))
        a.setToolTip(f)
        a.setEnabled(Path(f).is_file())
    if not files:
        menu.addAction("(no recent photos)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear list", win.settings.clear_recent_files)
