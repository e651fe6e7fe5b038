"""Matting Studio: turn a photo into a clean cutout."""

__version__ = "0.2.0"
