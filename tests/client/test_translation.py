"""The adapters and the download plan, without I/O: wire answers in, statuses and errors
out, read with the server's own tables."""

from __future__ import annotations

import pickle
import stat
from pathlib import Path

import pytest

from conch.cli.profiles import ServiceChoice
from conch.client import Client, Dialect, ProviderError, State
from conch.client.adapters import adapter_for
from conch.client.adapters.base import ApiKeyHeader
from conch.client.adapters.chanjing import READ_CODES as CHANJING_CODES
from conch.client.adapters.chanjing import ChanjingToken
from conch.client.adapters.minimax import READ_CODES as MINIMAX_CODES
from conch.client.adapters.minimax import MiniMaxAdapter
from conch.client.adapters.modelverse import ModelverseAdapter
from conch.client.download import WritePlan, write_plan
from conch.client.effects import Answer, Call, Sleep
from conch.client.errors import provider_error
from conch.client.presets import resolve
from conch.client.request import build_request
from conch.client.status import state_of
from conch.client.token_cache import TokenFile
from conch.domain.errors import (
    ErrorCode,
    Internal,
    InvalidApiKey,
    InvalidParams,
    MalformedRequest,
    RateLimited,
)
from conch.domain.task import TaskStatus
from conch.wire import chanjing, minimax, modelverse
from support.photos import encode, photo


def test_every_wire_status_reads_back_to_its_state() -> None:
    for names in (minimax.STATUS_NAMES, modelverse.STATUS_NAMES, chanjing.PROGRESS_DESC):
        assert state_of(names[TaskStatus.QUEUED], names) is State.QUEUED
        assert state_of(names[TaskStatus.PROCESSING], names) is State.RUNNING
        assert state_of(names[TaskStatus.SUCCESS], names) is State.SUCCEEDED
        assert state_of(names[TaskStatus.FAIL], names) is State.FAILED
    assert state_of("Rendering", minimax.STATUS_NAMES) is State.RUNNING  # unknown: poll on


def test_wire_codes_read_back_to_the_most_useful_canonical_error() -> None:
    assert MINIMAX_CODES[2013] is ErrorCode.INVALID_PARAMS  # also malformed and not found
    assert MINIMAX_CODES[1004] is ErrorCode.UNAUTHORIZED
    assert MINIMAX_CODES[1027] is ErrorCode.SENSITIVE_CONTENT  # the real provider's only
    assert CHANJING_CODES[10400] is ErrorCode.INVALID_API_KEY  # credentials were sent
    assert CHANJING_CODES[400] is ErrorCode.MALFORMED_REQUEST


def test_minimax_fail_is_a_status_but_any_other_nonzero_code_is_an_error() -> None:
    adapter = MiniMaxAdapter("key")
    failed = {
        "task_id": "7",
        "status": "Fail",
        "file_id": "",
        "base_resp": {"status_code": 1026, "status_msg": "input sensitive"},
    }
    status = adapter.status("7", Answer(200, failed, ""))
    assert status.state is State.FAILED and status.failure is not None
    assert (status.failure.reason, status.failure.provider_code) == (
        ErrorCode.SENSITIVE_CONTENT,
        1026,
    )
    limited = {"base_resp": {"status_code": 1002, "status_msg": "rate limit"}}
    with pytest.raises(RateLimited) as refused:
        adapter.status("7", Answer(200, limited, ""))
    assert isinstance(refused.value, ProviderError) and refused.value.transient


def test_a_proxy_error_page_is_a_transient_internal_error() -> None:
    with pytest.raises(Internal) as refused:
        ModelverseAdapter("key").status("7", Answer(502, None, "<html>Bad Gateway</html>"))
    assert refused.value.transient and "Bad Gateway" in str(refused.value)  # type: ignore[attr-defined]


def test_provider_errors_are_canonical_and_survive_pickling() -> None:
    error = provider_error(
        ErrorCode.MALFORMED_REQUEST,
        "not JSON",
        dialect="chanjing",
        provider_code=400,
        http_status=200,
        raw={"code": 400},
    )
    assert isinstance(error, MalformedRequest) and isinstance(error, InvalidParams)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and again.raw == {"code": 400}
    assert str(again) == "chanjing refused the call (400): not JSON"


def test_presets_and_the_quickrouter_prefix() -> None:
    assert resolve("minimax-global", None) == ("https://api.minimax.io", Dialect.MINIMAX)
    assert resolve("chanjing", None) == ("https://open-api.chanjing.cc", Dialect.CHANJING)
    assert resolve("http://127.0.0.1:8000/", "Modelverse")[1] is Dialect.MODELVERSE
    quickrouter = adapter_for(
        Dialect.QUICKROUTER, "https://api.quickrouter.ai/minimax", api_key="k"
    )
    local = adapter_for(Dialect.QUICKROUTER, "http://127.0.0.1:8000", api_key="k")
    assert quickrouter.status_call("1").path == "/v1/query/video_generation"
    assert local.status_call("1").path == "/minimax/v1/query/video_generation"
    with pytest.raises(InvalidParams):
        resolve("minimax-mars", None)
    with pytest.raises(InvalidParams):
        resolve("local", "klingon")


def test_a_chanjing_token_is_kept_then_renewed_ahead_of_its_expiry() -> None:
    now = [1_000.0]
    token = ChanjingToken("app", "secret", clock=lambda: now[0])
    renewal = token.renewal()
    assert isinstance(renewal, Call)
    assert renewal.json == {"app_id": "app", "secret_key": "secret"}
    assert isinstance(token.renewal(), Sleep)  # one fetch at a time: the others wait
    issued = {"code": 0, "msg": "success", "data": {"access_token": "t1", "expire_in": 87_400}}
    token.renewed(Answer(200, issued, ""))
    token.renewal_over()
    assert token.headers() == {"access_token": "t1"} and token.renewal() is None
    now[0] = 87_400 - 301
    assert token.renewal() is None
    now[0] = 87_400 - 299  # five minutes before expiry: renew now, not after a refusal
    assert isinstance(token.renewal(), Call)
    refused = Answer(200, {"code": 10400, "msg": "token invalid"}, "")
    assert token.refused(refused, {"access_token": "t1"}) and token.token is None
    with pytest.raises(InvalidApiKey):
        token.renewed(refused)
    token.renewal_over()
    assert isinstance(token.renewal(), Call)  # refused: the next call fetches again


def test_a_shared_token_is_taken_unless_it_was_refused_here(tmp_path: Path) -> None:
    now = [1_000.0]

    def process(secret: str = "secret") -> ChanjingToken:  # one per process, one file each
        shared = TokenFile(tmp_path / "tokens", "http://conch", "app", secret)
        return ChanjingToken("app", secret, shared=shared, clock=lambda: now[0])

    first = process()
    assert isinstance(first.renewal(), Call)
    issued = {"code": 0, "msg": "success", "data": {"access_token": "t1", "expire_in": 87_400}}
    first.renewed(Answer(200, issued, ""))
    first.renewal_over()
    assert first.shared is not None
    assert stat.S_IMODE(first.shared.path.stat().st_mode) == 0o600
    # Another process on the same app takes t1 instead of fetching one that would kill it.
    second = process()
    assert second.renewal() is None and second.headers() == {"access_token": "t1"}
    # ...unless t1 was refused there: it fetches a new one, holding the app's lock...
    assert second.refused(Answer(200, {"code": 10400}, ""), {"access_token": "t1"})
    assert isinstance(second.renewal(), Call)
    # ...for which a third process waits, rather than fetch its own.
    assert isinstance(process().renewal(), Sleep)
    second.renewal_over()
    # A wrong secret never borrows the token a right one fetched.
    assert isinstance(process("not-the-secret").renewal(), Call)


def test_secrets_stay_out_of_reprs() -> None:
    secret = "sk-conch-very-secret"
    header = ApiKeyHeader(secret)
    call = Call("POST", "/v1/x", json={"secret_key": secret}, headers=header.headers())
    token = ChanjingToken("app", secret)
    renewal = token.renewal()
    with Client("http://127.0.0.1:9", secret) as client:
        shown = [repr(header), repr(call), repr(token), repr(renewal), repr(client)]
        shown.append(repr(client.adapter.credentials))
    shown.append(repr(ServiceChoice(server="local", api_key=secret, secret_key=secret)))
    assert not [text for text in shown if secret in text], shown


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("minimax", {}),
        ("minimax", {"base_resp": {"status_code": 0}}),
        ("minimax", {"task_id": None, "base_resp": {"status_code": 0}}),
        ("modelverse", {}),
        ("modelverse", {"output": []}),
        ("modelverse", {"output": {"task_id": ""}}),
        ("chanjing", {}),
        ("chanjing", {"code": 0}),
        ("chanjing", {"code": 0, "data": {"unique_id": "x"}}),
    ],
)
def test_a_submit_answer_without_a_task_id_is_internal(dialect: str, body: object) -> None:
    adapter = adapter_for(Dialect(dialect), "http://x", api_key="app:secret")
    with pytest.raises(Internal, match="has no"):  # not KeyError, not TypeError
        adapter.submitted(Answer(200, body, ""))


def test_write_plan_follows_the_answer() -> None:
    ranged = {"content-range": "bytes 100-199/200"}
    assert write_plan(206, ranged, 100) == WritePlan(100, 200)
    assert write_plan(206, ranged, 150) == WritePlan(100, 200)  # from earlier: rewrite
    assert write_plan(206, ranged, 50) == WritePlan(None, None)  # a gap: not these bytes
    assert write_plan(200, {"content-length": "200"}, 100) == WritePlan(0, 200)  # no Range
    assert write_plan(416, {"content-range": "bytes */200"}, 200) == WritePlan(None, 200)
    assert write_plan(403, {}, 100) == WritePlan(None, None)


def test_images_go_inline_and_urls_as_they_are(tmp_path: Path) -> None:
    png = tmp_path / "frame.png"
    png.write_bytes(encode(photo("coffee"), "png"))
    request = build_request(
        first_frame=png, last_frame="https://example.com/b.jpg", prompt="[Zoom in] coffee"
    )
    assert request.first_frame_image is not None
    assert request.first_frame_image.startswith("data:image/png;base64,iVBOR")
    assert request.last_frame_image == "https://example.com/b.jpg"
    webp = build_request(first_frame=encode(photo("coffee"), "webp")).first_frame_image
    assert webp is not None and webp.startswith("data:image/webp;base64,")
