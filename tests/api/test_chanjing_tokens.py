"""Chanjing credentials end to end: the CLI's app pair, token expiry (a short TTL on a server
of its own), and a new token replacing the previous one."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from support.dialects import chanjing_token, create_chanjing_key
from support.live import SERVER_ENV, LiveConch, conch_command

TTL = 5  # room for two calls inside it on a loaded machine
PAGE = "/open/v1/ai_creation/task/page"


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConch]:
    """A server whose tokens last three seconds (and which runs no tasks)."""
    env = {**SERVER_ENV, "CONCH_WORKERS": "0", "CONCH_CHANJING_TOKEN_TTL": str(TTL)}
    with LiveConch(tmp_path_factory.mktemp("short-tokens"), env) as server:
        yield server


def code_with(conch: LiveConch, token: str) -> tuple[int, str]:
    answer = httpx.post(f"{conch.base_url}{PAGE}", json={}, headers={"access_token": token}).json()
    return answer["code"], answer["msg"]


def test_keys_create_prints_the_app_pair_before_the_key(short_lived: LiveConch) -> None:
    args = ["keys", "create", "--data-dir", str(short_lived.data_dir)]
    with_app = conch_command(*args, "--name", "app", "--chanjing", env=short_lived.env)
    pair, key = with_app.stdout.splitlines()
    assert re.fullmatch(r"app_id=[0-9a-f]{16} secret_key=[0-9a-f]{32}", pair)
    assert key.startswith("sk-conch-") and " " not in key
    plain = conch_command(*args, "--name", "plain", env=short_lived.env)
    assert plain.stdout.splitlines()[-1].startswith("sk-conch-")
    assert "app_id" not in plain.stdout


def test_a_token_expires_after_the_configured_ttl(short_lived: LiveConch) -> None:
    issued = chanjing_token(short_lived, create_chanjing_key(short_lived, "expiring"))["data"]
    assert issued["expire_in"] - time.time() <= TTL  # a unix timestamp, TTL seconds away
    assert code_with(short_lived, issued["access_token"]) == (0, "success")
    time.sleep(max(0.0, issued["expire_in"] + 1 - time.time()))
    code, msg = code_with(short_lived, issued["access_token"])
    assert code == 10400 and "access_token: expired at" in msg


def test_a_new_token_invalidates_the_previous_one(conch: LiveConch) -> None:
    credentials = create_chanjing_key(conch, "two tokens")
    first = chanjing_token(conch, credentials)["data"]
    second = chanjing_token(conch, credentials)["data"]
    assert first["access_token"] != second["access_token"]
    assert second["expire_in"] >= first["expire_in"]
    code, msg = code_with(conch, first["access_token"])
    assert code == 10400 and "replaced by a newer token" in msg
    assert code_with(conch, second["access_token"]) == (0, "success")


def test_tokens_last_a_day_by_default(conch: LiveConch) -> None:
    issued = chanjing_token(conch, create_chanjing_key(conch, "a day"))["data"]
    assert abs(issued["expire_in"] - (time.time() + 86400)) < 60
