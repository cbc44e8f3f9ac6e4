"""The web studio: its page at ``/``, its files under ``/studio/``, and the catalog it reads.

The page is plain HTML, CSS and JavaScript modules shipped in ``conch/web`` (package data):
no CDN, no build step. It calls only the public API (the MiniMax dialect, conch's task
list and signed downloads) with the key a person signs in with, so everything it does
passes the same validation, limits and balances as any client. These routes serve files
and the read-only catalog; they need no key and reveal nothing about anyone's tasks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse
from starlette.responses import Response

from conch.domain.camera import CHINESE, CameraMove
from conch.domain.catalog import CATALOG, FPS, ModelSpec, Resolution
from conch.domain.request import DEFAULT_DURATION, MAX_PROMPT_CHARS

WEB = Path(__file__).resolve().parents[1] / "web"
"""The studio's files (package data)."""

PAGE = "index.html"
ASSETS_PATH = "/studio"
CATALOG_PATH = f"{ASSETS_PATH}/catalog.json"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

# Only conch's own files run, and nothing the page shows (a prompt, an error) can become
# markup that runs: the page holds an API key worth protecting.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # Revalidate each load (the ETag makes that cheap), so an upgraded conch is seen at once.
    "Cache-Control": "no-cache",
}


@cache
def assets() -> dict[str, Path]:
    """Every file the studio serves, by its path under ``/studio/``."""
    found = (path for path in WEB.rglob("*") if path.suffix in CONTENT_TYPES)
    return {path.relative_to(WEB).as_posix(): path for path in found if path.name != PAGE}


def _file(path: Path) -> Response:
    return FileResponse(path, media_type=CONTENT_TYPES[path.suffix], headers=HEADERS)


def _model(spec: ModelSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "camera_commands": spec.camera_commands,
        "default_resolution": {
            mode.value: spec.default_resolution_for(mode).value for mode in spec.modes
        },
        "matrix": {
            mode.value: {tier.value: list(durations) for tier, durations in tiers.items()}
            for mode, tiers in spec.matrix.items()
        },
    }


def catalog_document() -> dict[str, Any]:
    """What the page offers, from the catalog and the camera grammar themselves."""
    return {
        "models": [_model(spec) for spec in CATALOG.values()],
        "resolutions": [tier.value for tier in Resolution],
        "default_duration": DEFAULT_DURATION,
        "fps": FPS,
        "max_prompt_chars": MAX_PROMPT_CHARS,
        "camera_commands": [{"en": move.value, "zh": CHINESE[move]} for move in CameraMove],
    }


def router() -> APIRouter:
    """The studio's routes (kept out of the API docs: they are a page, not an API)."""
    routes = APIRouter(include_in_schema=False)

    @routes.get("/")
    def page() -> Response:
        return _file(WEB / PAGE)

    @routes.get(CATALOG_PATH)
    def catalog() -> Response:
        return JSONResponse(catalog_document(), headers=HEADERS)

    @routes.get(ASSETS_PATH + "/{name:path}")
    def asset(name: str) -> Response:
        path = assets().get(name)
        if path is None:
            return JSONResponse({"error": f"the studio has no file {name!r}"}, status_code=404)
        return _file(path)

    return routes
