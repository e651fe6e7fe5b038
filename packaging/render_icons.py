"""Render the SVG application icon to the PNG sizes desktops and AppStream catalogues use.

    python packaging/render_icons.py OUT_DIR [--name APP_ID]

writes OUT_DIR/hicolor/{16x16,...,512x512}/apps/APP_ID.png and
OUT_DIR/hicolor/scalable/apps/APP_ID.svg (a freedesktop icon-theme tree).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
APP_ID = "io.github.mattingstudio.MattingStudio"
SVG = Path(__file__).resolve().parent.parent / "resources" / "matting-studio.svg"


def render(svg: Path, out: Path, name: str, sizes=SIZES) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    written = []
    scalable = out / "hicolor" / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    written.append(scalable)
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"cannot write {path}")
        written.append(path)
    return written


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="folder that receives the hicolor/ tree")
    p.add_argument("--name", default=APP_ID, help=f"icon name (default {APP_ID})")
    p.add_argument("--svg", type=Path, default=SVG)
    args = p.parse_args()
    for path in render(args.svg, args.out, args.name):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
