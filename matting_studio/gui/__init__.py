"""Qt editor: a thin layer over :mod:`matting_studio.core`."""
