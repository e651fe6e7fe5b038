"""Qt-free core of Matting Studio: load, segment, trimap, matte, foreground, export.

Nothing in this package may import Qt; ``tests/core/test_no_qt.py`` enforces it.
"""
