"""One logging policy for every conch process: what is logged, and what never is.

- Outbound URLs never appear with their user-info or query (where receivers and providers
  put tokens): conch's own lines use :func:`conch.net.targets.display_url`, and httpx's and
  httpcore's request lines, which print URLs whole, are kept to warnings and above.
- Access lines of signed download links leave out the query: the signature in it works
  without a key until the link expires.
- API keys are shown once, by ``conch keys create`` or the first start's banner, and never
  logged.
"""

from __future__ import annotations

import logging

from conch.media.links import DOWNLOAD_PATH

FORMAT = "%(asctime)s {name} %(levelname)s %(message)s"
_DOWNLOADS = DOWNLOAD_PATH.split("{", 1)[0]
QUIET = ("httpx", "httpcore")
"""Libraries whose INFO lines print whole URLs."""


class DownloadQueryFilter(logging.Filter):
    """Drops the query of download links from uvicorn's access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2]
            if path.startswith(_DOWNLOADS) and "?" in path:
                record.args = (*args[:2], path.split("?", 1)[0], *args[3:])
        return True


def configure(name: str = "%(name)s") -> None:
    """Log INFO and above to stderr, each line naming ``name`` (the process, or the logger)."""
    logging.basicConfig(level=logging.INFO, format=FORMAT.format(name=name))
    for library in QUIET:
        logging.getLogger(library).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").addFilter(DownloadQueryFilter())
