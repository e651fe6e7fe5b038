"""Entry point of the frozen (PyInstaller) application: same as the ``matting-studio`` command."""

from matting_studio.cli import run

if __name__ == "__main__":
    run()
