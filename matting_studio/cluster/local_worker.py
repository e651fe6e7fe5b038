"""Dask preload of the workers that ``--dask local`` starts on this machine.

Ctrl+C in a terminal reaches every process of the foreground group, the local cluster's worker
processes included. Those belong to the command, which cancels what is pending and shuts them
down itself; left to Dask they would each print a KeyboardInterrupt traceback. So they ignore
the interrupt from their start. Workers of a real cluster never load this module.
"""

from __future__ import annotations

import signal


def dask_setup(worker) -> None:  # noqa: ARG001 - Dask's preload hook
    signal.signal(signal.SIGINT, signal.SIG_IGN)
