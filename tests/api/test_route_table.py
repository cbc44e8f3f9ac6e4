"""The app serves every route from its own router (conch.api.routing.include): each is
matched once, API routes before the docs' pages, and a router holding anything but API
routes is refused rather than served half."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from conch.api.app import create_app
from conch.api.routing import include
from conch.config import Settings
from conch.services import Services

DOCS = {"/openapi.json", "/static-offline-docs", "/docs", "/docs/oauth2-redirect", "/redoc"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    services = Services.open(Settings(data_dir=tmp_path / "data", workers=0))
    try:
        yield create_app(services)
    finally:
        services.close()


def test_every_route_is_on_the_apps_own_router_and_the_docs_come_last(app: FastAPI) -> None:
    routes = app.router.routes
    paths = [getattr(route, "path", None) for route in routes]
    api = [route for route in routes if getattr(route, "path", None) not in DOCS]
    assert all(isinstance(route, APIRoute) for route in api), "an included router is left"
    assert set(paths[-len(DOCS) :]) == DOCS
    assert "/v1/query/video_generation" in paths and "/minimax/v1/query/video_generation" in paths


def test_the_docs_still_answer_behind_the_api_routes(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").json()["paths"]["/v1/query/video_generation"]


def test_a_copied_route_keeps_what_its_router_gave_it(app: FastAPI) -> None:
    routes = {
        (r.path, frozenset(r.methods or ())): r
        for r in app.router.routes
        if isinstance(r, APIRoute)
    }
    hidden = routes[("/minimax/v1/tasks", frozenset({"GET"}))]
    shown = routes[("/v1/tasks", frozenset({"GET"}))]
    assert not hidden.include_in_schema and shown.include_in_schema
    query = routes[("/minimax/v1/query/video_generation", frozenset({"GET"}))]
    assert query.tags == ["QuickRouter"] and query.dependency_overrides_provider is app


def test_a_router_with_anything_but_api_routes_is_refused(tmp_path: Path) -> None:
    app = FastAPI()
    routes = APIRouter()
    (tmp_path / "files").mkdir()
    routes.routes.append(Mount("/files", app=StaticFiles(directory=tmp_path / "files")))
    with pytest.raises(TypeError, match="API routes only"):
        include(app, routes)


def test_a_wrong_method_names_every_method_served_on_the_path(app: FastAPI) -> None:
    with TestClient(app) as client:
        videos = client.put("/v1/videos")
        assert videos.status_code == 405 and videos.headers["Allow"] == "GET, POST"
        assert "error" in videos.json()  # OpenAI's error body, not FastAPI's detail
        docs = client.post("/docs")
        assert docs.status_code == 405 and docs.json() == {"detail": "Method Not Allowed"}
