"""Application start-up: QApplication, icon, theme, opening a photo, ``--screenshot``."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

SCREENSHOT_TIMEOUT_S = 300


def warm_model() -> threading.Thread:
    """Load the ONNX model and warm the matting code in the background (first photo opens fast)."""

    def work() -> None:
        try:
            from ..core.segmentation import get_model

            get_model()
            log.info("segmentation model ready")
        except Exception as e:  # noqa: BLE001 - the real open reports it in a dialog
            log.warning("model warm-up failed: %s", e)
        try:
            from ..core.matting.warmup import warmup

            log.info("matting warm-up took %.2f s", warmup())
        except Exception as e:  # noqa: BLE001 - an optional speed-up only
            log.debug("matting warm-up skipped: %s", e)

    t = threading.Thread(target=work, name="ms-warm-model", daemon=True)
    t.start()
    return t


QT_NOISE = ("propagateSizeHints",)
"""Qt warnings that say nothing to a user (the offscreen platform's missing features)."""


def _qt_message(mode, context, message: str) -> None:
    from PySide6.QtCore import QtMsgType

    if any(n in message for n in QT_NOISE):
        return
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(mode, logging.ERROR)
    logging.getLogger("qt").log(level, "%s", message)


def create_app(argv: list[str] | None = None):
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from ..resources_path import APP_ICON, resource_path
    from .settings import APPLICATION, ORGANIZATION
    from .theme import apply_theme

    qInstallMessageHandler(_qt_message)
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("io.github.mattingstudio.MattingStudio")
    try:
        app.setWindowIcon(QIcon(str(resource_path(APP_ICON))))
    except FileNotFoundError as e:
        log.warning("%s", e)
    apply_theme(app)
    return app


def run_app(args) -> int:
    """Entry point of ``matting-studio [PHOTO...] [--sample] [--screenshot OUT.png]``."""
    from ..resources_path import SAMPLE_PHOTO, resource_path

    images = list(getattr(args, "images", None) or [])
    if getattr(args, "sample", False) and not images:
        try:
            images = [str(resource_path(SAMPLE_PHOTO))]
        except FileNotFoundError as e:
            print(f"matting-studio: {e}", file=sys.stderr)
            return 1
    screenshot = getattr(args, "screenshot", None)
    if screenshot and not images:
        print("matting-studio: --screenshot needs a PHOTO or --sample", file=sys.stderr)
        return 2
    missing = [p for p in images if not Path(p).exists()] if screenshot else []
    if missing:
        print(f"matting-studio: {missing[0]}: file not found", file=sys.stderr)
        return 1

    from ..core.executor import set_thread_budget

    set_thread_budget(None)  # every usable core, shared by all of the editor's background work
    app = create_app()
    warm_model()
    from .main_window import MainWindow

    if screenshot:  # default settings in a throw-away file: reproducible, user's left alone
        import tempfile

        from .settings import AppSettings

        with tempfile.TemporaryDirectory(prefix="matting-studio-") as tmp:
            win = MainWindow(settings=AppSettings(Path(tmp) / "settings.ini"))
            return _screenshot(app, win, images, screenshot)
    from .recovery import install

    win = MainWindow()
    install(win)  # the crash-recovery offer shortly after start-up
    win.show()
    if images:
        win.open_path(*images)
    return app.exec()


def _screenshot(app, win, images: list[str], out: str) -> int:
    """Open ``images``, wait for the first alpha, save a grab of the window to ``out``, exit.
    Never waits on a dialog: any problem prints one line and ends with status 1."""
    from PySide6.QtCore import QTimer

    state = {"rc": 1, "ended": False}
    win.resize(1440, 900)
    win.show()

    def end(rc: int, problem: str | None = None, close: bool = True) -> None:
        # the first outcome wins: a second problem queued behind the first (another thread's
        # report arriving before the event loop has stopped) adds no second line
        if state["ended"]:
            return
        state["ended"] = True
        if problem is not None:
            print(f"matting-studio: {problem}", file=sys.stderr)
        state["rc"] = rc
        if close:
            win.close()
        app.exit(rc)

    def no_dialogs(title: str, text: str, info: str, choices) -> str:
        end(1, f"{title}: {text}", close=False)  # the asking code goes on with the answer
        return choices[-1]

    win.recovery.ask = no_dialogs
    win.recovery.confirm_close = lambda parent=None: True

    def grab() -> None:
        if state["ended"]:
            return
        app.processEvents()
        win.sync.fit()
        app.processEvents()
        if win.grab().save(out):
            log.info("screenshot saved to %s", out)
            end(0)
        else:
            end(1, f"cannot write {out}")

    def shown() -> None:
        if win.controller.alpha_is_current():
            win.alphaShown.disconnect(shown)
            QTimer.singleShot(300, grab)

    def failed(title: str, message: str) -> None:
        end(1, f"{title}: {message}")

    def timeout() -> None:
        end(1, f"no alpha after {SCREENSHOT_TIMEOUT_S} s")

    win.alphaShown.connect(shown)
    win.controller.error.connect(failed)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_S * 1000, timeout)
    win.open_path(*images)
    rc = app.exec()
    return rc if rc else state["rc"]
