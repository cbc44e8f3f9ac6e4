"""A gateway in front of a scripted, faulty upstream (support/faulty_upstream.py): every
fault ends in its documented outcome (docs/relay.md), and no create is ever sent twice; a
task cancelled on the gateway is left to the sweep, since MiniMax has no cancel call; and
kill -9 of the gateway mid-relay, then a restart, resumes polling from the stored upstream
id.

One upstream server and one gateway for the module; each test scripts its own prompt. The
last test kills the gateway and starts it again (on the same port and data dir)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from conch.engines.relay.calls import CallState, RelayCall
from conch.media.video import encode_mp4, probe
from relay.gateway import (
    KEY_ENV,
    fetched_video,
    gateway_env,
    new_key,
    relay_calls,
    submit,
    submit_and_wait,
)
from support.faulty_upstream import KEY, FaultyUpstream, Script
from support.live import (
    LiveConch,
    conch_command,
    free_port,
    owner_id,
    task_store,
    wait_for_task,
)

WRONG_KEY_ENV = "RELAY_TEST_WRONG_KEY"
FRAMES = 48


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real MP4 the upstream delivers: 48 frames of 128x72."""
    path = tmp_path_factory.mktemp("video") / "upstream.mp4"
    rng = np.random.default_rng(7)
    frames = (rng.integers(0, 255, (72, 128, 3), dtype=np.uint8) for _ in range(FRAMES))
    encode_mp4(frames, path, 128, 72, produce_id="upstream")
    return path.read_bytes()


@pytest.fixture(scope="module")
def upstream(video: bytes) -> Iterator[FaultyUpstream]:
    with FaultyUpstream(video, hang_seconds=3.0) as server:
        yield server


def _terms(base_url: str, key_env: str = KEY_ENV) -> dict[str, Any]:
    return {
        "kind": "minimax",
        "base_url": base_url,
        "api_key_env": key_env,
        "poll_first": 0.05,
        "poll_ceiling": 0.1,
        "poll_deadline": 60,
        "create_timeout": 1,
        "resolve_window": 2,
    }


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: FaultyUpstream
) -> Iterator[tuple[LiveConch, httpx.Client]]:
    base = upstream.base_url
    upstreams = {
        "a": _terms(f"{base}/a"),
        "short": {**_terms(f"{base}/a"), "poll_deadline": 1},
        "b": _terms(f"{base}/b"),
        "nolist": _terms(f"{base}/nolist"),
        "wrongkey": _terms(f"{base}/c", WRONG_KEY_ENV),
        "down": _terms(f"http://127.0.0.1:{free_port()}"),
        # Only 127.0.0.1/32 is allowed (CONCH_ALLOWED_NETWORKS): 127.0.0.2 is private.
        "blocked": _terms(f"http://127.0.0.2:{upstream.port}/a"),
    }
    models = {
        "MiniMax-Hailuo-02": {"upstreams": ["a"]},
        "MiniMax-Hailuo-2.3": {"upstreams": ["nolist"]},
        "MiniMax-H3": {"upstreams": ["a", "b"]},
        "T2V-01": {"upstreams": ["down", "wrongkey", "a"]},
        "T2V-01-Director": {"upstreams": ["blocked"]},
        "video-01": {"upstreams": ["short"]},
    }
    secrets = {KEY_ENV: KEY, WRONG_KEY_ENV: "sk-not-the-key"}
    extra = {"CONCH_MAX_ATTEMPTS": "2", "CONCH_RELAY_RECHECK_AFTER": "0.5"}
    env = gateway_env(upstreams, models, secrets, **extra)
    server = LiveConch(tmp_path_factory.mktemp("gateway"), env)
    key = new_key(server, "caller")
    with server, server.client(key) as client:
        yield server, client
        assert KEY not in server.log()  # the upstream's key never reaches the log


def relay(
    gateway: tuple[LiveConch, httpx.Client],
    upstream: FaultyUpstream,
    prompt: str,
    script: Script,
    model: str = "MiniMax-Hailuo-02",
) -> dict[str, Any]:
    upstream.scripts[prompt] = script
    body = {"model": model, "prompt": prompt, "duration": 6}
    if model.startswith("MiniMax"):
        body["resolution"] = "768P"
    return submit_and_wait(gateway[1], body, timeout=60)


def calls(gateway: tuple[LiveConch, httpx.Client], task_id: str) -> list[RelayCall]:
    return relay_calls(gateway[0], task_id)


def until(find: Callable[[], RelayCall | None], timeout: float = 60) -> RelayCall:
    """``find()``'s first answer that is not None, looked for until ``timeout``."""
    deadline = time.monotonic() + timeout
    while (found := find()) is None:
        assert time.monotonic() < deadline, "not found in time"
        time.sleep(0.1)
    return found


def test_5xx_and_rate_limits_while_polling_slow_it_down_and_never_fail(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream, tmp_path: Path
) -> None:
    polls = ["http:500", "http:429", "code:1002", "code:1002", "Processing", "Success"]
    done = relay(gateway, upstream, "rate limited", Script(polls=polls))
    assert done["status"] == "Success", done
    assert fetched_video(*gateway, done, tmp_path / "v.mp4").frames == FRAMES
    assert upstream.creates("rate limited") == 1
    assert upstream.task_of("rate limited").polls >= len(polls)


@pytest.mark.parametrize("create", ["500", "hang"])
def test_an_unconfirmed_create_is_found_in_the_list_and_never_sent_again(
    create: str, gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = f"create answered {create}"
    done = relay(gateway, upstream, prompt, Script(create=create))
    assert done["status"] == "Success", done
    assert upstream.creates(prompt) == 1
    (call,) = calls(gateway, done["task_id"])
    assert call.upstream_task_id == upstream.task_of(prompt).task_id


def test_a_cut_create_on_an_upstream_that_cannot_list_fails_saying_it_may_hold_it(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "create cut"
    done = relay(gateway, upstream, prompt, Script(create="cut"), "MiniMax-Hailuo-2.3")
    assert done["status"] == "Fail"
    assert "may hold this task" in done["base_resp"]["status_msg"]
    assert upstream.creates(prompt) == 1
    (call,) = calls(gateway, done["task_id"])
    assert call.state is CallState.GIVEN_UP and "cannot list" in (call.outcome or "")


def test_a_task_past_its_deadline_fails_and_its_late_success_is_collected(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "never ends in time"
    done = relay(gateway, upstream, prompt, Script(polls=["Processing"]), "video-01")
    assert done["status"] == "Fail"
    assert "did not finish the video within 1 s" in done["base_resp"]["status_msg"]
    upstream.then(prompt, "Success")
    call = until(lambda: _in_state(calls(gateway, done["task_id"]), CallState.LATE_SUCCESS))
    assert call.file_key is not None
    kept = probe(gateway[0].data_dir / "media" / call.file_key)
    assert kept.frames == FRAMES
    assert upstream.creates(prompt) == 1
    # The caller was told Fail, and is still: the late video is the operator's record.
    assert wait_for_task(gateway[1], done["task_id"])["status"] == "Fail"


@pytest.mark.parametrize("links", [["expired", "ok"], ["cut"]], ids=["expired link", "cut body"])
def test_an_expired_link_or_a_cut_download_still_rehosts_the_video(
    links: list[str], gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream,
    tmp_path: Path,
) -> None:  # fmt: skip
    prompt = f"download {links[0]}"
    done = relay(gateway, upstream, prompt, Script(links=links))
    assert done["status"] == "Success", done
    video = fetched_video(*gateway, done, tmp_path / "v.mp4")
    assert (video.codec, video.width, video.height, video.frames) == ("h264", 128, 72, FRAMES)
    if links == ["cut"]:  # resumed where the cut left it, not downloaded again
        task = upstream.task_of(prompt).task_id
        ranged = [s.headers.get("Range") for s in upstream.seen if f"/{task}/" in s.path]
        assert ranged[0] is None and ranged[1] not in (None, "bytes=0-")


@pytest.mark.parametrize("link", ["404", "truncated"])
def test_a_video_that_cannot_be_rehosted_fails_without_a_second_create(
    link: str, gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = f"download {link} for good"
    done = relay(gateway, upstream, prompt, Script(links=[link]))
    assert done["status"] == "Fail"
    assert done["base_resp"]["status_code"] == 1000
    assert upstream.creates(prompt) == 1  # the retry polled the same upstream task
    (call,) = calls(gateway, done["task_id"])
    assert call.upstream_task_id == upstream.task_of(prompt).task_id


def test_sensitive_output_upstream_is_the_callers_sensitive_code(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    done = relay(gateway, upstream, "sensitive", Script(polls=["Processing", "Fail:1027"]))
    assert (done["status"], done["base_resp"]["status_code"]) == ("Fail", 1026)


def test_invalid_params_upstream_are_the_callers_and_fail_over_to_no_one(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "invalid upstream"
    done = relay(gateway, upstream, prompt, Script(create="refuse:2013"), "MiniMax-H3")
    assert (done["status"], done["base_resp"]["status_code"]) == ("Fail", 2013)
    assert (upstream.creates(prompt, "/a"), upstream.creates(prompt, "/b")) == (1, 0)


def test_no_balance_fails_over_to_the_next_upstream(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "no balance on a"
    script = Script(create_at={"/a": "refuse:1008"})
    done = relay(gateway, upstream, prompt, script, "MiniMax-H3")
    assert done["status"] == "Success", done
    assert (upstream.creates(prompt, "/a"), upstream.creates(prompt, "/b")) == (1, 1)
    refused, accepted = calls(gateway, done["task_id"])
    assert (refused.upstream, refused.state, accepted.upstream) == ("a", "refused", "b")
    assert "1008" in (refused.outcome or "")


def test_balance_refused_everywhere_is_a_generic_failure_with_the_reason_kept(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "no balance anywhere"
    done = relay(gateway, upstream, prompt, Script(create="refuse:1008"), "MiniMax-H3")
    assert (done["status"], done["base_resp"]["status_code"]) == ("Fail", 1000)
    assert "balance" not in done["base_resp"]["status_msg"]
    reasons = [call.outcome or "" for call in calls(gateway, done["task_id"])]
    assert len(reasons) == 2 and all("1008" in reason for reason in reasons)
    # The operator reads them in `conch tasks show` on the data dir.
    server = gateway[0]
    shown = conch_command(
        "tasks", "show", done["task_id"], "--data-dir", str(server.data_dir), env=server.env
    ).stdout
    assert "relay:" in shown and "1008" in shown and KEY not in shown


def test_an_unreachable_upstream_and_a_refused_key_fail_over(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "fail over twice"
    done = relay(gateway, upstream, prompt, Script(), "T2V-01")
    assert done["status"] == "Success", done
    assert (upstream.creates(prompt, "/c"), upstream.creates(prompt, "/a")) == (1, 1)
    states = [(call.upstream, call.state) for call in calls(gateway, done["task_id"])]
    assert states == [("down", "refused"), ("wrongkey", "refused"), ("a", "succeeded")]


def test_a_private_upstream_is_refused_by_the_outbound_guard(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "private upstream"
    done = relay(gateway, upstream, prompt, Script(), "T2V-01-Director")
    assert done["status"] == "Fail"
    assert upstream.creates(prompt) == 0
    reasons = [call.outcome or "" for call in calls(gateway, done["task_id"])]
    assert reasons and all("CONCH_ALLOWED_NETWORKS" in reason for reason in reasons)


def test_a_cancelled_task_is_left_to_the_sweep_where_the_upstream_cannot_cancel(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream
) -> None:
    prompt = "cancelled where MiniMax has no cancel"
    upstream.scripts[prompt] = Script(polls=["Processing"])
    task_id = submit(gateway[1], {"model": "MiniMax-Hailuo-02", "prompt": prompt})
    until(lambda: _in_state(calls(gateway, task_id), CallState.ACCEPTED))
    assert gateway[1].post(f"/v1/tasks/{task_id}/cancel").status_code == 200

    # No cancel is sent (MiniMax has none); the call stays open, saying why.
    call = until(lambda: _saying(calls(gateway, task_id), "has no cancel call"))
    assert call.state is CallState.ACCEPTED
    assert call.upstream_task_id == upstream.task_of(prompt).task_id
    # What the upstream does after is recorded: here, it finishes the video anyway.
    upstream.then(prompt, "Success")
    late = until(lambda: _in_state(calls(gateway, task_id), CallState.LATE_SUCCESS))
    assert late.file_key is not None and late.id == call.id
    assert probe(gateway[0].data_dir / "media" / late.file_key).frames == FRAMES
    assert upstream.creates(prompt) == 1
    cancels = [s for s in upstream.seen if s.method == "DELETE" or s.path.endswith("/cancel")]
    assert cancels == []
    assert wait_for_task(gateway[1], task_id)["status"] == "Fail"  # still cancelled


def test_a_gateway_killed_mid_relay_resumes_from_the_stored_id(
    gateway: tuple[LiveConch, httpx.Client], upstream: FaultyUpstream, tmp_path: Path
) -> None:
    """kill -9 of the gateway mid-relay, then a restart: polling resumes from the stored
    upstream id, no second create is sent, and the task ends once, Success. (Last in the
    module: it restarts the module's gateway.)"""
    server, client = gateway
    prompt, dropped = "outlives its gateway", "cancelled while its gateway is down"
    upstream.scripts[prompt] = Script(polls=["Processing"])
    upstream.scripts[dropped] = Script(polls=["Processing"])
    task_id = submit(client, {"model": "MiniMax-Hailuo-02", "prompt": prompt})
    dropped_id = submit(client, {"model": "MiniMax-Hailuo-02", "prompt": dropped})
    for made in (task_id, dropped_id):
        until(lambda made=made: _in_state(calls(gateway, made), CallState.ACCEPTED))
    while upstream.task_of(prompt).polls < 2:
        time.sleep(0.05)
    server.kill9()  # mid-relay: accepted upstream, being polled
    # As `conch tasks cancel ID --data-dir ...` does it: no runner follows the task now.
    key = client.headers["Authorization"].split()[1]
    task_store(server.data_dir).cancel(owner_id(server.data_dir, key), dropped_id)

    upstream.then(prompt, "Success")
    server.start()
    with server.client(key) as again:
        done = wait_for_task(again, task_id, timeout=60)
        assert done["status"] == "Success", done
        assert fetched_video(server, again, done, tmp_path / "relayed.mp4").frames == FRAMES
    assert upstream.creates(prompt) == 1
    (call,) = calls(gateway, task_id)
    assert call.state is CallState.SUCCEEDED
    assert call.upstream_task_id == upstream.task_of(prompt).task_id
    # The sweep took the cancelled task's call: MiniMax has no cancel call, so it is left
    # open, saying so.
    left = until(lambda: _saying(calls(gateway, dropped_id), "has no cancel call"))
    assert left.state is CallState.ACCEPTED


def _in_state(found: list[RelayCall], state: CallState) -> RelayCall | None:
    return next((call for call in found if call.state is state), None)


def _saying(found: list[RelayCall], words: str) -> RelayCall | None:
    return next((call for call in found if words in (call.outcome or "")), None)
