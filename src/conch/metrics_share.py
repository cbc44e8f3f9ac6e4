"""The folder where runner processes write their Prometheus histograms for the process that
serves them (prometheus-client's multiprocess mode).

It lives apart from :mod:`conch.metrics` because prometheus-client reads the folder's
variable once, when it is first imported: ``conch worker``, whose pool processes are forked
from it, must set the folder before importing anything that imports the library.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's variable: the folder where processes write their metrics."""


def share_with_runners() -> Callable[[], None]:
    """A fresh folder for this process's runners' metrics (runner processes started or forked
    from now on write there); the function that removes it."""
    folder = tempfile.mkdtemp(prefix="conch-metrics-")
    os.environ[MULTIPROCESS_ENV] = folder
    return lambda: shutil.rmtree(folder, ignore_errors=True)


def shared_folder() -> str | None:
    """The folder this process's runners write to, if one was shared and still exists."""
    folder = os.environ.get(MULTIPROCESS_ENV)
    return folder if folder and os.path.isdir(folder) else None
