"""`conch generate`: a video from local frames, in this process or on a live server chosen
by options or by a profile; the path alone on stdout."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from client.stub_server import StubServer
from conch.cli import main
from conch.client.journal import Journal
from conch.client.token_cache import TOKEN_CACHE_ENV
from conch.domain.task import TaskStatus
from conch.media.video import probe
from conch.store.tables import tasks as tasks_table
from support.dialects import ChanjingCredentials, create_chanjing_key
from support.live import CONCH, SERVER_ENV, LiveConch, conch_command, task_store
from support.photos import clip_frame, encode, photo


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("frames")
    files = {
        "first": (folder / "a.jpg", encode(clip_frame(0))),
        "last": (folder / "b.png", encode(clip_frame(24), "png")),
        "photo": (folder / "astronaut.jpg", encode(photo("astronaut"))),
    }
    for path, data in files.values():
        path.write_bytes(data)
    return {name: path for name, (path, _) in files.items()}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    with LiveConch(tmp_path_factory.mktemp("conch"), SERVER_ENV) as live:
        yield live


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The journal, profiles and shared tokens in the test's folder, never the user's home."""
    return {
        "CONCH_JOURNAL": str(tmp_path / "journal.jsonl"),
        "CONCH_PROFILES": str(tmp_path / "profiles.toml"),
        TOKEN_CACHE_ENV: str(tmp_path / "tokens"),
    }


def test_generate_in_process_needs_no_server(
    tmp_path: Path, frames: dict[str, Path], env: dict[str, str]
) -> None:
    out = tmp_path / "out.mp4"
    result = conch_command(
        "generate", "--first-frame", str(frames["first"]), "--last-frame", str(frames["last"]),
        "--prompt", "[Push in] a meadow", "--resolution", "768P", "-o", str(out),
        "--data-dir", str(tmp_path / "data"),
        env=env,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == str(out)
    assert "accepted (in-process)" in result.stderr
    video = probe(out)
    assert (video.width, video.height, video.frames) == (1366, 768, 144)
    assert not Path(env["CONCH_JOURNAL"]).exists()  # in-process tasks live in the data dir


def test_generate_against_a_server_chosen_by_options(
    tmp_path: Path, server: LiveConch, frames: dict[str, Path], env: dict[str, str]
) -> None:
    key = server.create_key("cli")
    result = conch_command(
        "generate", "--model", "I2V-01", "--first-frame", str(frames["photo"]),
        "--no-prompt-optimizer", "--watermark", "-o", str(tmp_path / "v.mp4"),
        "--server", server.base_url, "--api-key", key,
        env=env,
    )  # fmt: skip
    assert result.stdout.strip() == str(tmp_path / "v.mp4")
    video = probe(tmp_path / "v.mp4")
    assert (video.width, video.height, video.frames) == (720, 720, 144)
    (entry,) = Journal(Path(env["CONCH_JOURNAL"])).entries()
    assert entry.service == f"minimax@{server.base_url}"
    assert entry.output == str((tmp_path / "v.mp4").resolve())
    assert f"task {entry.task_id} accepted" in result.stderr


def test_generate_against_a_server_chosen_by_a_profile(
    tmp_path: Path, server: LiveConch, frames: dict[str, Path], env: dict[str, str]
) -> None:
    app: ChanjingCredentials = create_chanjing_key(server, "studio")
    Path(env["CONCH_PROFILES"]).write_text(
        f'[studio]\nserver = "{server.base_url}"\ndialect = "chanjing"\n'
        f'app_id = "{app.app_id}"\nsecret_key = "{app.secret_key}"\n'
    )
    out = tmp_path / "from-profile.mp4"
    result = conch_command(
        "generate", "--first-frame", str(frames["first"]), "--last-frame", str(frames["last"]),
        "--prompt", "[Truck left] a meadow", "-o", str(out),
        env={**env, "CONCH_PROFILE": "studio"},
    )  # fmt: skip
    assert result.stdout.strip() == str(out)
    assert probe(out).frames == 144
    (entry,) = Journal(Path(env["CONCH_JOURNAL"])).entries(f"chanjing@{server.base_url}")
    assert len(entry.task_id) == 36  # Chanjing's unique_id


def test_a_refusal_is_reported_in_the_providers_words(
    server: LiveConch, frames: dict[str, Path], env: dict[str, str]
) -> None:
    failed = subprocess.run(
        [*CONCH, "generate", "--first-frame", str(frames["photo"]), "--server", server.base_url,
         "--api-key", "sk-conch-wrong"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip
    assert failed.returncode == 1
    assert "minimax refused the call (2049)" in failed.stderr
    assert failed.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api-key", "k"], "--api-key need --server"),
        (["--first-frame", "/nonexistent.jpg"], "first_frame_image: no such image file"),
        (["--server", "http://127.0.0.1:9", "--dialect", "chanjing"], "app_id and secret_key"),
        (["--profile", "nobody"], "no profiles file"),
    ],
)
def test_usage_errors_say_what_to_do(args: list[str], message: str, env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["generate", *args, "--prompt", "x"], env=env)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_profile_can_read_its_key_from_the_environment(
    server: LiveConch, env: dict[str, str]
) -> None:
    key = server.create_key("from-env")
    Path(env["CONCH_PROFILES"]).write_text(
        f'[mine]\nserver = "{server.base_url}"\napi_key_env = "MY_CONCH_KEY"\n'
    )
    shown = subprocess.run(
        [*CONCH, "tasks", "show", "123", "--profile", "mine"],
        capture_output=True, text=True, env={**os.environ, **env, "MY_CONCH_KEY": key}, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 1 and "(2013)" in shown.stderr  # authenticated; no such task
    assert key not in shown.stdout + shown.stderr
    assert "warning" not in shown.stderr  # the file holds no secret of its own


def test_a_profile_can_read_its_chanjing_secret_from_the_environment(
    server: LiveConch, env: dict[str, str]
) -> None:
    app = create_chanjing_key(server, "secret-from-env")
    Path(env["CONCH_PROFILES"]).write_text(
        f'[studio]\nserver = "{server.base_url}"\ndialect = "chanjing"\n'
        f'app_id = "{app.app_id}"\nsecret_key_env = "STUDIO_SECRET"\n'
    )
    listed = conch_command(
        "tasks", "list", "--profile", "studio", env={**env, "STUDIO_SECRET": app.secret_key}
    )
    assert app.secret_key not in listed.stdout + listed.stderr
    unset = CliRunner().invoke(main, ["tasks", "list", "--profile", "studio"], env=env)
    assert unset.exit_code == 2 and "reads its secret_key from $STUDIO_SECRET" in unset.output


def test_a_profiles_file_holding_secrets_must_be_private(
    server: LiveConch, env: dict[str, str]
) -> None:
    key = server.create_key("in-file")
    profiles = Path(env["CONCH_PROFILES"])
    profiles.write_text(f'[mine]\nserver = "{server.base_url}"\napi_key = "{key}"\n')
    show = ["tasks", "show", "123", "--profile", "mine"]
    profiles.chmod(0o644)
    exposed = CliRunner().invoke(main, show, env=env)
    assert "(2013)" in exposed.stderr  # it works, and says what is wrong with the file
    assert f"warning: {profiles} holds secrets and is readable by others" in exposed.stderr
    assert f"chmod 600 {profiles}" in exposed.stderr and key not in exposed.output
    profiles.chmod(0o600)
    private = CliRunner().invoke(main, show, env=env)
    assert "(2013)" in private.stderr and "warning" not in private.stderr


def test_the_environments_key_is_never_sent_to_a_profiles_own_server(
    env: dict[str, str],
) -> None:
    with StubServer(200, {"base_resp": {"status_code": 0}}) as elsewhere:
        Path(env["CONCH_PROFILES"]).write_text(f'[other]\nserver = "{elsewhere.base_url}"\n')
        secret = "sk-conch-meant-for-my-own-conch"
        result = CliRunner().invoke(
            main,
            ["tasks", "show", "1", "--profile", "other"],
            env={**env, "CONCH_API_KEY": secret, "CONCH_SERVER": "http://127.0.0.1:9"},
        )
    assert result.exit_code == 2 and "minimax needs an api_key" in result.output
    assert elsewhere.seen == []  # nothing went out, with or without the key
    assert secret not in result.output


def test_ctrl_c_in_process_hands_the_task_back_and_download_finishes_it(
    tmp_path: Path, frames: dict[str, Path], env: dict[str, str]
) -> None:
    data, out = tmp_path / "data", tmp_path / "long.mp4"
    args = [
        *CONCH, "generate", "--first-frame", str(frames["first"]), "--last-frame",
        str(frames["last"]), "--duration", "10", "-o", str(out), "--data-dir", str(data),
    ]  # fmt: skip
    # Python ignores SIGINT in a child started from a background job: restore the default.
    running = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env}, preexec_fn=_default_sigint,
    )  # fmt: skip
    _until_processing(data)
    running.send_signal(signal.SIGINT)
    stdout, stderr = running.communicate(timeout=60)
    assert running.returncode == 130, stderr
    assert stdout == "" and not out.exists()
    task_id = re.search(r"conch tasks download (\d+)", stderr)[1]  # type: ignore[index]
    listed = conch_command("tasks", "list", "--json", "--data-dir", str(data), env=env).stdout
    first = json.loads(listed.splitlines()[0])
    assert (first["task_id"], first["state"]) == (task_id, "queued")  # given back, not half-done
    conch_command("tasks", "download", task_id, "-o", str(out), "--data-dir", str(data), env=env)
    assert probe(out).frames == 240


def test_a_second_ctrl_c_in_process_still_hands_the_task_back_unspent(
    tmp_path: Path, frames: dict[str, Path], env: dict[str, str]
) -> None:
    # No --data-dir: the default ./var, which the hint must name as an absolute path.
    args = [
        *CONCH, "generate", "--first-frame", str(frames["first"]), "--last-frame",
        str(frames["last"]), "--duration", "10", "-o", "long.mp4",
    ]  # fmt: skip
    running = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, **env}, preexec_fn=_default_sigint,
    )  # fmt: skip
    data = tmp_path / "var"
    _until_processing(data)
    running.send_signal(signal.SIGINT)
    time.sleep(0.05)
    running.send_signal(signal.SIGINT)  # impatient: while the first is being handled
    stdout, stderr = running.communicate(timeout=60)
    assert running.returncode == 130, stderr
    assert stdout == "" and not (tmp_path / "long.mp4").exists()
    assert "back to the queue" in stderr and "Traceback" not in stderr
    with task_store(data).engine.begin() as conn:
        (status, attempts), *_ = conn.execute(select(tasks_table.c.status, tasks_table.c.attempts))
    assert (status, attempts) == (TaskStatus.QUEUED.value, 0)  # given back, attempt unspent
    hint = re.search(r"finish it with: (conch tasks download .*)", stderr)
    assert hint is not None
    assert hint[1].endswith(f"-o {tmp_path / 'long.mp4'} --data-dir {data}"), hint[1]


def test_the_task_id_is_shown_even_when_the_journal_cannot_be_written(
    tmp_path: Path, server: LiveConch, frames: dict[str, Path], env: dict[str, str]
) -> None:
    key = server.create_key("no-journal")
    (tmp_path / "a-file").write_text("")
    unwritable = tmp_path / "a-file" / "journal.jsonl"  # its folder is a file: even for root
    result = conch_command(
        "generate", "--model", "I2V-01", "--first-frame", str(frames["photo"]),
        "-o", str(tmp_path / "v.mp4"), "--server", server.base_url, "--api-key", key,
        env={**env, "CONCH_JOURNAL": str(unwritable)},
    )  # fmt: skip
    assert result.stdout.strip() == str(tmp_path / "v.mp4")  # the video, all the same
    accepted = re.search(r"task (\d+) accepted", result.stderr)
    warning = result.stderr.find(f"was not recorded in {unwritable}")
    assert accepted is not None and 0 <= accepted.start() < warning
    assert probe(tmp_path / "v.mp4").frames == 144


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _until_processing(data: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (data / "conch.db").exists():
            try:
                with task_store(data).engine.begin() as conn:
                    statuses = conn.execute(select(tasks_table.c.status)).scalars().all()
            except OperationalError:  # the file is there, its tables not yet
                statuses = []
            if TaskStatus.PROCESSING.value in statuses:
                return
        time.sleep(0.1)
    raise AssertionError("the task never started processing")
