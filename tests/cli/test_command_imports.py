"""Each ``conch`` subcommand imports only what it uses: the client commands do not load the
server, the store or the engines, and no data-dir command loads the web app."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from conch.cli import COMMANDS, main
from support.imports import packages_loaded_by

SERVER_SIDE = {"fastapi", "uvicorn", "celery", "sqlalchemy", "alembic", "cv2", "av", "torch"}
WEB_APP = {"fastapi", "uvicorn", "starlette"}


def _loaded_by(*args: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after ``conch ARGS``."""
    return packages_loaded_by(
        f"from conch.cli import main\nmain({list(args)!r}, standalone_mode=False)"
    )


@pytest.mark.parametrize("command", ["generate", "tasks"])
def test_a_client_command_loads_neither_server_nor_store(command: str) -> None:
    loaded = _loaded_by(command, "--help")
    assert "conch" in loaded and "httpx" in loaded  # it did load the SDK
    assert not loaded & SERVER_SIDE


@pytest.mark.parametrize("command", ["keys", "deliveries", "db", "usage"])
def test_a_data_dir_command_loads_the_store_but_not_the_web_app(command: str) -> None:
    loaded = _loaded_by(command, "--help")
    assert "sqlalchemy" in loaded
    assert not loaded & WEB_APP


def test_the_command_list_loads_no_command() -> None:
    loaded = _loaded_by("--help")
    assert not loaded & (SERVER_SIDE | {"httpx"})


def test_the_command_list_reads_as_if_every_command_were_loaded() -> None:
    listed = CliRunner().invoke(main, ["--help"]).output.split("Commands:")[1]
    with click.Context(main) as ctx:
        loaded = [main.get_command(ctx, name) for name in COMMANDS]
    eager = click.Group("conch", commands=[c for c in loaded if c is not None])
    assert len(eager.commands) == len(COMMANDS)
    assert listed == CliRunner().invoke(eager, ["--help"]).output.split("Commands:")[1]
    assert [line.split()[0] for line in listed.splitlines() if line] == sorted(COMMANDS)


def test_an_unknown_command_is_refused_with_the_click_error() -> None:
    answer = CliRunner().invoke(main, ["serv"])
    assert answer.exit_code == 2 and "No such command 'serv'" in answer.output
