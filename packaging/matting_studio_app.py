"""Entry point of the frozen (PyInstaller) application: same as the ``matting-studio`` command."""

import sys

from matting_studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
