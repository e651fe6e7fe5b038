"""Bundled resources (icons, sample photo). Shipped as ``matting_studio.resources``."""
