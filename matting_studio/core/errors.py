"""One exception type per layer, each with a message a photographer understands."""

from __future__ import annotations


class MattingStudioError(Exception):
    """Base class: ``str(err)`` is a complete one-line message for a dialog or stderr."""


class ImageLoadError(MattingStudioError):
    """An input image could not be read (missing, corrupt, unsupported, too large)."""


class ModelError(MattingStudioError):
    """A segmentation model could not be found, loaded or run."""


class TrimapError(MattingStudioError):
    """A user-supplied trimap does not fit the image."""


class MattingError(MattingStudioError):
    """The alpha solve failed."""


class ExportError(MattingStudioError):
    """An output file could not be written."""


class SessionError(MattingStudioError):
    """A saved project could not be read or written."""


class Cancelled(Exception):
    """Raised inside long work when its cancel token fires. Not an error for the user."""
