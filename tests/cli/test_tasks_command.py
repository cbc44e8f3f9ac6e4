"""`conch tasks list | show | download`: in the local data dir (running a queued task here)
and on a live server, in a dialect that lists tasks and in one that does not."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from client.cutting_proxy import CuttingProxy
from client.stub_server import StubServer
from conch.client import Client
from conch.client.download import part_path
from conch.client.token_cache import TOKEN_CACHE_ENV
from conch.config import Settings
from conch.media.video import probe
from conch.runner.inprocess import LocalClient
from conch.store.tables import chanjing_apps
from support.dialects import create_chanjing_key
from support.live import CONCH, SERVER_ENV, LiveConch, conch_command, task_store
from support.photos import clip_frame, encode, photo


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveConch, CuttingProxy]]:
    """A conch whose download links go through a proxy that sees every Range asked for."""
    live = LiveConch(tmp_path_factory.mktemp("conch"), SERVER_ENV)
    with CuttingProxy(live.base_url, cuts=0) as proxy:
        live.env["CONCH_PUBLIC_URL"] = proxy.base_url
        with live:
            yield live, proxy


@pytest.fixture(scope="module")
def server(proxied: tuple[LiveConch, CuttingProxy]) -> LiveConch:
    return proxied[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CONCH_JOURNAL": str(tmp_path / "journal.jsonl"),
        TOKEN_CACHE_ENV: str(tmp_path / "tokens"),
    }


def test_a_queued_local_task_is_listed_then_run_here_by_download(
    tmp_path: Path, env: dict[str, str]
) -> None:
    data = tmp_path / "data"
    # A run that was stopped right after submitting: the task waits in the data dir.
    with LocalClient(Settings(data_dir=data)) as local:
        task_id = local.submit(model="I2V-01", first_frame=encode(photo("rocket")))
    where = ("--data-dir", str(data))
    header, line = conch_command("tasks", "list", *where, env=env).stdout.splitlines()
    assert header.split() == [
        "TASK", "ID", "STATUS", "MODEL", "MODE", "SECONDS", "RESOLUTION", "CREATED", "PROMPT"
    ]  # fmt: skip
    assert line.split()[:6] == [task_id, "queued", "I2V-01", "image-to-video", "6", "720P"]
    out = tmp_path / "rocket.mp4"
    done = conch_command("tasks", "download", task_id, "-o", str(out), *where, env=env)
    assert done.stdout.strip() == str(out)
    assert probe(out).frames == 144
    shown = conch_command("tasks", "show", task_id, *where, env=env).stdout
    assert "succeeded" in shown and "1080x720" in shown  # rocket is 3:2, at 720P
    raw = json.loads(conch_command("tasks", "show", task_id, "--json", *where, env=env).stdout)
    assert raw["status"] == "success" and raw["output"]["width"] == 1080


def test_chanjing_tasks_are_listed_shown_and_downloaded_from_a_server(
    tmp_path: Path, server: LiveConch, env: dict[str, str]
) -> None:
    app = create_chanjing_key(server, "tasks-cli")
    with Client(
        server.base_url, dialect="chanjing", app_id=app.app_id, secret_key=app.secret_key
    ) as client:
        unique_id = client.submit(
            first_frame=encode(clip_frame(0)), last_frame=encode(clip_frame(24)), prompt="x"
        )
        client.wait(unique_id, timeout=120)
    chosen = (
        "--server", server.base_url, "--dialect", "chanjing",
        "--app-id", app.app_id, "--secret-key", app.secret_key,
    )  # fmt: skip
    from_env = {**env, "CONCH_APP_ID": app.app_id, "CONCH_SECRET_KEY": app.secret_key}
    listed = conch_command(
        "tasks", "list", "--json", "--server", server.base_url, "--dialect", "chanjing",
        env=from_env,
    ).stdout.splitlines()  # fmt: skip
    assert [json.loads(line)["task_id"] for line in listed] == [unique_id]
    assert json.loads(listed[0])["state"] == "succeeded"
    shown = conch_command("tasks", "show", unique_id, *chosen, env=env).stdout
    assert "Success" in shown and "/downloads/" in shown  # the signed link
    out = tmp_path / "chanjing.mp4"
    conch_command("tasks", "download", unique_id, "-o", str(out), *chosen, env=env)
    assert probe(out).frames == 144


def test_every_task_of_the_key_is_listed_from_a_conch_server_a_page_at_a_time(
    tmp_path: Path, server: LiveConch, env: dict[str, str]
) -> None:
    key = server.create_key("listing")
    with server.client(key) as api:  # not through this CLI: it is listed all the same
        body = {"model": "I2V-01", "prompt": "a rocket on its pad [Push in]"}
        first = api.post("/v1/video_generation", json={**body, "first_frame_image": _data_url()})
    image = tmp_path / "coffee.jpg"
    image.write_bytes(encode(photo("coffee")))
    chosen = ("--server", server.base_url, "--api-key", key)
    made = conch_command(
        "generate", "--model", "I2V-01", "--first-frame", str(image), "--prompt", "coffee",
        "-o", str(tmp_path / "coffee.mp4"), *chosen, env={"CONCH_JOURNAL": "/nonexistent/j"},
    )  # fmt: skip
    second = re.search(r"task (\d+) accepted", made.stderr)[1]  # type: ignore[index]
    listed = conch_command("tasks", "list", "--json", *chosen, env=env).stdout.splitlines()
    tasks = [json.loads(line) for line in listed]
    assert [task["task_id"] for task in tasks] == [second, first.json()["task_id"]]
    assert tasks[0]["state"] == "succeeded" and tasks[0]["prompt"] == "coffee"
    assert tasks[1]["prompt"] == body["prompt"] and tasks[1]["model"] == "I2V-01"
    page = conch_command("tasks", "list", "--limit", "1", *chosen, env=env)
    assert page.stdout.splitlines()[1].split()[0] == second
    assert f"more: conch tasks list --after {second}" in page.stderr
    rest = conch_command("tasks", "list", "--limit", "1", "--after", second, *chosen, env=env)
    assert rest.stdout.splitlines()[1].split()[0] == first.json()["task_id"]
    assert "more:" not in rest.stderr
    missing = subprocess.run(
        [*CONCH, "tasks", "download", "999", *chosen],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 1 and "no task 999" in missing.stderr


def _data_url() -> str:
    return "data:image/jpeg;base64," + base64.b64encode(encode(photo("rocket"))).decode()


def test_a_server_without_a_task_list_falls_back_to_this_machines_journal(
    env: dict[str, str],
) -> None:
    with StubServer(404, {"detail": "Not Found"}) as stub:  # MiniMax itself: no list call
        listed = conch_command(
            "tasks", "list", "--server", stub.base_url, "--api-key", "k", env=env
        )
    assert "the server has no task list" in listed.stderr
    assert "showing the tasks this machine submitted to it" in listed.stderr
    assert listed.stdout == ""


def test_reading_a_data_dir_that_does_not_exist_names_it_and_creates_nothing(
    tmp_path: Path,
) -> None:
    for command in (["tasks", "list"], ["tasks", "show", "1"], ["keys", "list"]):
        result = subprocess.run(
            [*CONCH, *command], capture_output=True, text=True, cwd=tmp_path, timeout=60
        )  # fmt: skip
        assert result.returncode == 2, result
        assert f"no conch data dir at {tmp_path / 'var'}" in result.stderr
        assert list(tmp_path.iterdir()) == []


def test_download_without_o_resumes_the_part_generate_left_where_it_left_it(
    tmp_path: Path, proxied: tuple[LiveConch, CuttingProxy], env: dict[str, str]
) -> None:
    server, proxy = proxied
    key = server.create_key("resume")
    image = tmp_path / "astronaut.jpg"
    image.write_bytes(encode(photo("astronaut")))
    chosen = ("--server", server.base_url, "--api-key", key)
    out = tmp_path / "made-here" / "astronaut.mp4"
    out.parent.mkdir()
    made = conch_command(
        "generate", "--model", "I2V-01", "--first-frame", str(image), "-o", str(out), *chosen,
        env=env,
    )  # fmt: skip
    task_id = re.search(r"task (\d+) accepted", made.stderr)[1]  # type: ignore[index]
    whole = out.read_bytes()
    # As if generate had been killed 100 000 bytes into its download:
    out.unlink()
    part_path(out, task_id).write_bytes(whole[:100_000])
    proxy.seen.clear()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [*CONCH, "tasks", "download", task_id, *chosen],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60, cwd=elsewhere,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and out.read_bytes() == whole
    assert [(ranged, code) for _, ranged, code in proxy.seen] == [("bytes=100000-", 206)]
    assert list(elsewhere.iterdir()) == [] and not part_path(out, task_id).exists()


def test_processes_on_one_chanjing_app_share_one_token(
    server: LiveConch, env: dict[str, str]
) -> None:
    app = create_chanjing_key(server, "two-processes")
    listing = [
        *CONCH, "tasks", "list", "--server", server.base_url, "--dialect", "chanjing",
        "--app-id", app.app_id, "--secret-key", app.secret_key,
    ]  # fmt: skip
    processes = [
        subprocess.Popen(listing, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, **env})
        for _ in range(3)
    ]  # fmt: skip
    outcomes = [(process.wait(60), process.communicate()[1]) for process in processes]
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    with task_store(server.data_dir).engine.begin() as conn:
        (previous,) = conn.execute(
            select(chanjing_apps.c.previous_token_hash).where(chanjing_apps.c.app_id == app.app_id)
        ).one()
    assert previous is None  # one token was issued, and no process killed another's
    (shared,) = Path(env[TOKEN_CACHE_ENV]).glob("*.json")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600 and app.secret_key not in shared.read_text()
