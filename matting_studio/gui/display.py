"""What the views show of the photo on screen: the pixel sources the editor keeps up to date
and the window hands to its views (uint8 arrays shared with the sources, no copies)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.shoot import Prepared
from ..core.trimap import changed_bounds
from .jobs import MatteImages
from .qimage import CutoutSource, GreySource, RgbSource, TintSource


@dataclass
class Display:
    photo: RgbSource | None = None
    photo_rgb8: np.ndarray | None = None
    trimap: GreySource | None = None
    overlay: TintSource | None = None
    matte: MatteImages | None = None
    full_resolution: bool = False
    """False while the views show a prepared photo's display-size pixels."""

    @classmethod
    def of_prepared(cls, prepared: Prepared | None) -> Display:
        """The display-size photo and cut-out of a prepared photo, shown while its full
        resolution loads (empty when it has none)."""
        if prepared is None or prepared.rgb is None:
            return cls()
        rgb, alpha, size = prepared.rgb, prepared.alpha, prepared.size
        matte = MatteImages(None, alpha, rgb, GreySource(alpha, image_size=size),
                            CutoutSource(rgb, alpha, image_size=size))
        return cls(photo=RgbSource(rgb, image_size=size), matte=matte)

    def show_trimap(self, trimap: np.ndarray
                    ) -> tuple[GreySource, TintSource, tuple[int, int, int, int] | None]:
        """Bring the trimap view's source and the photo's tint up to date with ``trimap``:
        only the rectangle that changed is redrawn. Returns both sources and that rectangle
        (None: everything is new)."""
        if self.trimap is not None and self.trimap.arrays[0].shape == trimap.shape:
            box = changed_bounds(self.trimap.arrays[0], trimap)
            self.trimap.arrays = self.overlay.arrays = (trimap,)
            if box is not None:
                self.trimap.update(*box)
                self.overlay.update(*box)
            return self.trimap, self.overlay, box
        self.trimap = GreySource(trimap, nearest=True)
        self.overlay = TintSource(trimap)
        return self.trimap, self.overlay, None
