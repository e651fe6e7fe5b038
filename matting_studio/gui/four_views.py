"""The four views of the photo on screen (photo with the trimap tint, trimap, alpha, cut-out)
in a 2×2 grid, zoomed and panned together, and how each is refreshed: a whole new source, or
only the rectangle a stroke or a patch changed."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGridLayout, QWidget

from ..core.models import model_label
from .image_views import ImageView, ViewPanel, ViewSync, checker_brush
from .jobs import MatteImages
from .qimage import GreySource, TintSource

TRIMAP_HINT = "white subject · grey unknown · black background"


class FourViews(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.photo_view = ImageView("Photo")
        self.trimap_view = ImageView("Trimap")
        self.alpha_view = ImageView("Alpha")
        self.cutout_view = ImageView("Cutout")
        self.views = [self.photo_view, self.trimap_view, self.alpha_view, self.cutout_view]
        self.sync = ViewSync(self.views, self)
        self.panels = {
            "photo": ViewPanel(self.photo_view, "trimap tint on top · drag to paint"),
            "trimap": ViewPanel(self.trimap_view, TRIMAP_HINT),
            "alpha": ViewPanel(self.alpha_view, "the matte (white = opaque)"),
            "cutout": ViewPanel(self.cutout_view, "what Export writes"),
        }
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setSpacing(4)
        for (r, c), key in zip(((0, 0), (0, 1), (1, 0), (1, 1)), self.panels):
            grid.addWidget(self.panels[key], r, c)

    def clear_edits(self) -> None:
        """Another photo comes on screen: no trimap or tint until its document is loaded."""
        self.photo_view.overlay.set_source(None)
        self.trimap_view.set_source(None)

    def show_trimap(self, sources: tuple[GreySource, TintSource],
                    region: tuple[int, int, int, int] | None) -> None:
        if region is None or not self.trimap_view.has_image():
            self.trimap_view.set_source(sources[0])
            self.photo_view.overlay.set_source(sources[1])
        else:
            self.trimap_view.base.pixels_changed(*region)
            self.photo_view.overlay.pixels_changed(*region)

    def show_matte(self, matte: MatteImages | None,
                   region: tuple[int, int, int, int] | None = None) -> bool:
        """Put a matte on the alpha and cut-out views. Returns True when the sources were
        replaced (the caller then sets the cut-out's backdrop again)."""
        if matte is not None and region is not None and self.alpha_view.has_image():
            self.alpha_view.base.pixels_changed(*region)
            self.cutout_view.base.pixels_changed(*region)
            return False
        self.alpha_view.set_source(matte.alpha_source if matte is not None else None)
        self.cutout_view.set_source(matte.cutout_source if matte is not None else None)
        return True

    def set_alpha_state(self, current: bool, preview: bool) -> None:
        for key in ("alpha", "cutout"):
            if current:
                self.panels[key].set_badge("✓ up to date", "ok")
            elif preview:
                self.panels[key].set_badge("◐ preview, refining…", "stale")
            else:
                self.panels[key].set_badge("⟳ updating… (showing the last alpha)", "stale")

    def set_model(self, model) -> None:
        """The trimap view says which model found the subject."""
        hint = f"{TRIMAP_HINT} · mask by {model_label(model)}"
        self.panels["trimap"].hint.setText(hint)
        self.panels["trimap"].hint.setToolTip(hint)

    def set_backdrop(self, key: str, colour: QColor) -> None:
        """What shows through the cut-out's transparent pixels."""
        brush: QBrush | QColor | None = {"white": QColor(255, 255, 255),
                                         "black": QColor(0, 0, 0), "color": colour}.get(key)
        if brush is None:
            brush = checker_brush()
        self.cutout_view.set_backdrop(brush if self.cutout_view.has_image() else None)
