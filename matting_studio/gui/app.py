"""Application start-up (placeholder until the editor lands)."""

from __future__ import annotations

import sys


def run_app(args) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    label = QLabel("Matting Studio")
    label.show()
    return app.exec()
