"""Refusals reach the caller as conch's canonical errors, carrying the provider's own code,
message and answer, in every dialect; a refused submit is never sent twice."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

import conch.client
from client.helpers import FAST_POLL, FAST_RETRY, Frames, sdk_client
from client.stub_server import StubServer
from conch.client import (
    Client,
    ProviderError,
    ServiceUnreachable,
    SubmitUnconfirmed,
    Unsupported,
    WaitTimeout,
)
from conch.client import errors as client_errors
from conch.client.errors import provider_error
from conch.domain.errors import (
    ConchError,
    ErrorCode,
    Internal,
    InvalidApiKey,
    InvalidParams,
    NotFound,
)
from conch.store.tables import chanjing_apps
from support.dialects import ChanjingCredentials, chanjing_token, create_chanjing_key
from support.live import LiveConch, free_port, task_store

BAD_KEY_CODES = {"minimax": 2049, "quickrouter": 2049, "modelverse": "invalid_api_key"}
INVALID_PARAMS_CODES = {
    "minimax": 2013,
    "quickrouter": 2013,
    "modelverse": "param_error",
    "chanjing": 40000,
}


@pytest.mark.parametrize("dialect", list(BAD_KEY_CODES))
def test_a_bad_key_is_invalid_api_key_with_the_providers_code(
    dialect: str, conch: LiveConch
) -> None:
    client = Client(conch.base_url, "sk-conch-not-a-key", dialect=dialect)
    with client, pytest.raises(InvalidApiKey) as refused:
        client.status("1")
    error = refused.value
    assert isinstance(error, ProviderError)
    assert error.provider_code == BAD_KEY_CODES[dialect] and error.dialect == dialect
    assert "not valid" in error.detail  # the provider's message
    assert error.raw and not error.transient  # the answer itself, and no retrying it


def test_a_bad_chanjing_secret_is_refused_when_the_token_is_asked_for(
    conch: LiveConch, app: ChanjingCredentials
) -> None:
    client = Client(conch.base_url, dialect="chanjing", app_id=app.app_id, secret_key="wrong")
    with client, pytest.raises(InvalidApiKey) as refused:
        client.tasks()
    assert refused.value.provider_code == 10400  # type: ignore[attr-defined]
    assert "secret_key" in str(refused.value)


@pytest.mark.parametrize("dialect", list(INVALID_PARAMS_CODES))
def test_invalid_params_are_refused_once_and_never_resubmitted(
    dialect: str, conch: LiveConch, key: str, app: ChanjingCredentials, frames: Frames
) -> None:
    sent: list[str] = []
    client = sdk_client(conch, dialect, key, app)
    client._http.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    with client, pytest.raises(InvalidParams) as refused:
        # 1080P allows 6 s only: the provider refuses, and the SDK must not ask again.
        client.submit(first_frame=frames.first, resolution="1080P", duration=10)
    error = refused.value
    assert isinstance(error, ProviderError)
    assert error.provider_code == INVALID_PARAMS_CODES[dialect]
    assert "duration" in error.detail or "video_duration" in error.detail
    assert len([path for path in sent if "submit" in path or "generation" in path]) == 1


def test_an_unknown_task_is_refused_not_polled_forever(conch: LiveConch, key: str) -> None:
    client = Client(conch.base_url, key, dialect="modelverse", poll=FAST_POLL)
    with client, pytest.raises(NotFound):
        client.wait("12345", timeout=30)
    # MiniMax answers an unknown task with 2013 behind HTTP 200: still an error, at once.
    with Client(conch.base_url, key, poll=FAST_POLL) as client, pytest.raises(InvalidParams):
        client.wait("12345", timeout=30)


def test_what_a_dialect_cannot_carry_is_refused_before_sending(
    conch: LiveConch, key: str, app: ChanjingCredentials, frames: Frames
) -> None:
    with sdk_client(conch, "chanjing", key, app) as chanjing:
        with pytest.raises(InvalidParams, match="Chanjing offers 768P") as refused:
            chanjing.submit(first_frame=frames.first, resolution="512P")
        assert refused.value.field == "resolution"
        with pytest.raises(InvalidParams, match="cannot be sent in the chanjing") as refused:
            chanjing.submit(first_frame=frames.first, watermark=True)
        assert refused.value.message() == "aigc_watermark: cannot be sent in the chanjing dialect"
    with sdk_client(conch, "modelverse", key) as modelverse:
        with pytest.raises(InvalidParams, match="cannot be sent in the modelverse") as refused:
            modelverse.submit(model="S2V-01", subject=frames.photo)
        assert refused.value.field == "subject_reference"
        # Modelverse has no list call: on a conch, conch's own lists the key's tasks.
        assert isinstance(modelverse.tasks(), list)
    with (
        StubServer(404, {"detail": "Not Found"}) as elsewhere,
        Client(elsewhere.base_url, "k", dialect="modelverse") as modelverse,
        pytest.raises(Unsupported, match="no call that lists tasks"),
    ):
        modelverse.tasks()
    with pytest.raises(InvalidParams, match="no such image file"):
        sdk_client(conch, "minimax", key).submit(first_frame=Path("/nonexistent.jpg"))
    with pytest.raises(InvalidParams, match="not a JPEG, PNG or WebP"):
        sdk_client(conch, "minimax", key).submit(first_frame=b"GIF89a...")


def test_a_chanjing_token_killed_by_a_newer_one_is_reissued_once(
    conch: LiveConch, app: ChanjingCredentials
) -> None:
    client = Client(
        conch.base_url, dialect="chanjing", app_id=app.app_id, secret_key=app.secret_key
    )
    with client:
        client.tasks()
        first = client.adapter.credentials.token  # type: ignore[attr-defined]
        chanjing_token(conch, app)  # another process issues a token: the client's dies
        client.tasks()  # 10400, then a new token, then the call again
        assert client.adapter.credentials.token not in (None, first)  # type: ignore[attr-defined]


def test_a_chanjing_token_is_renewed_before_it_expires(tmp_path: Path) -> None:
    server = LiveConch(tmp_path, {"CONCH_WORKERS": "0", "CONCH_CHANJING_TOKEN_TTL": "3"})
    app = create_chanjing_key(server, "short-tokens")
    calls: list[tuple[str, int]] = []

    def record(response: httpx.Response) -> None:
        body = response.read() and response.json()
        calls.append((response.request.url.path, body.get("code", -1)))

    with (
        server,
        Client(
            server.base_url, dialect="chanjing", app_id=app.app_id, secret_key=app.secret_key
        ) as client,
    ):
        client._http.event_hooks["response"].append(record)
        client.tasks()
        client.tasks()  # the token is fresh: no new one
        time.sleep(2.9)  # past 90 % of its 3 s life
        client.tasks()
    paths = [path for path, _ in calls]
    assert paths.count("/open/v1/access_token") == 2, calls
    assert all(code == 0 for _, code in calls), calls  # renewed before a 10400, not after


def test_every_client_error_is_a_conch_error() -> None:
    raised_by_the_sdk = [
        value
        for module in (client_errors, conch.client)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    made_per_refusal = [
        type(provider_error(code, "x", dialect="minimax", provider_code=1, http_status=200, raw={}))
        for code in ErrorCode
    ]
    assert SubmitUnconfirmed in raised_by_the_sdk and len(made_per_refusal) == len(ErrorCode)
    outside = [
        cls for cls in raised_by_the_sdk + made_per_refusal if not issubclass(cls, ConchError)
    ]
    assert outside == []


def test_a_service_that_does_not_answer_is_one_error_and_a_submit_is_not_repeated(
    frames: Frames,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    sent: list[str] = []
    client = Client(closed, "key", poll=FAST_POLL, retry=FAST_RETRY)
    client._http.event_hooks["request"].append(lambda request: sent.append(request.method))
    with client:
        with pytest.raises(ServiceUnreachable, match="nothing was submitted"):
            client.submit(first_frame=frames.first)
        assert sent == ["POST"]  # once
        with pytest.raises(ServiceUnreachable, match="ConnectError"):
            client.status("1")
        assert sent[1:] == ["GET"] * FAST_RETRY.attempts  # reads are retried
        with pytest.raises(WaitTimeout, match="wait for it again"):
            client.wait("1", timeout=1)


# -- submits whose answer does not say whether the task exists ---------------------------

SUBMIT_PATHS = {
    "minimax": "/v1/video_generation",
    "modelverse": "/v1/tasks/submit",
    "chanjing": "/open/v1/ai_creation/task/submit",
}
GATEWAY_FAILURES = [
    (502, b"<html><body>502 Bad Gateway</body></html>"),
    (504, b"<html><body>504 Gateway Time-out</body></html>"),
    (408, b"request timeout"),
    (200, {"base_resp": {"status_code": 1000, "status_msg": "unknown error"}}),  # Internal
    (500, {"error": {"message": "internal", "type": "internal_error", "code": "internal_error"}}),
]


def _submitted(stub: StubServer) -> list[str]:
    return [seen.path for seen in stub.seen if seen.method == "POST"]


@pytest.mark.parametrize(("status", "body"), GATEWAY_FAILURES)
def test_a_submit_answered_with_a_failure_is_unconfirmed_not_retryable(
    status: int, body: object, frames: Frames
) -> None:
    dialect = "modelverse" if status == 500 else "minimax"
    with (
        StubServer(status, body) as stub,
        Client(stub.base_url, "key", dialect=dialect, retry=FAST_RETRY) as client,
        pytest.raises(SubmitUnconfirmed, match="may already exist") as unconfirmed,
    ):
        client.submit(first_frame=frames.first)
    assert _submitted(stub) == [SUBMIT_PATHS[dialect]]  # sent once, never again
    error = unconfirmed.value
    assert isinstance(error, ServiceUnreachable) and not isinstance(error, ProviderError)
    assert not isinstance(error, Internal)  # nothing that reads as "try again"
    assert isinstance(error.__cause__, ProviderError)  # what the service said, kept


def test_a_submit_whose_answer_is_lost_is_sent_once_and_may_exist(frames: Frames) -> None:
    with (
        StubServer(hang_up=True) as stub,
        Client(stub.base_url, "key", retry=FAST_RETRY) as client,
        pytest.raises(SubmitUnconfirmed) as unconfirmed,
    ):
        client.submit(first_frame=frames.first)
    assert _submitted(stub) == ["/v1/video_generation"]  # it arrived, once
    message = str(unconfirmed.value)
    assert "got no answer" in message and "may already exist" in message
    assert "look for it" in message


@pytest.mark.parametrize("dialect", list(SUBMIT_PATHS))
def test_a_submit_answer_without_a_task_id_is_an_error_of_the_tree(
    dialect: str, frames: Frames
) -> None:
    with (
        StubServer(200, {}) as stub,
        Client(stub.base_url, "app:secret", dialect=dialect, token_cache=False) as client,
    ):
        if dialect == "chanjing":  # a token in hand (the stub would answer {} for one too)
            client.adapter.credentials.token = "t"  # type: ignore[attr-defined]
            client.adapter.credentials.renew_at = time.time() + 3600  # type: ignore[attr-defined]
        with pytest.raises(SubmitUnconfirmed) as unconfirmed:
            client.submit(first_frame=frames.first)
    assert isinstance(unconfirmed.value.__cause__, Internal)  # not KeyError, not TypeError
    assert "has no" in str(unconfirmed.value) or "no code" in str(unconfirmed.value)
    assert _submitted(stub) == [SUBMIT_PATHS[dialect]]


# -- one Chanjing token for every call and process of one app ----------------------------


def _token_issues(client: Client, issued: list[str]) -> None:
    def count(request: httpx.Request) -> None:
        if request.url.path == "/open/v1/access_token":
            issued.append(request.url.path)

    client._http.event_hooks["request"].append(count)


def test_threads_sharing_a_client_and_clients_sharing_a_cache_fetch_one_token(
    conch: LiveConch, tmp_path: Path
) -> None:
    app = create_chanjing_key(conch, "threads")
    issued: list[str] = []
    clients = [
        Client(conch.base_url, dialect="chanjing", app_id=app.app_id, secret_key=app.secret_key,
               token_cache=tmp_path / "shared")
        for _ in range(2)
    ]  # fmt: skip
    for client in clients:
        _token_issues(client, issued)
    outcomes: list[object] = []

    def list_tasks(client: Client) -> None:
        try:
            outcomes.append(client.tasks(limit=1))
        except BaseException as error:
            outcomes.append(error)

    threads = [threading.Thread(target=list_tasks, args=(c,)) for c in clients * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for client in clients:
        client.close()
    assert [o for o in outcomes if not isinstance(o, list)] == [] and len(outcomes) == 8
    assert issued == ["/open/v1/access_token"]  # one token, for all eight calls
    assert _previous_token(conch, app.app_id) is None  # so none was killed by a newer one


def _previous_token(conch: LiveConch, app_id: str) -> str | None:
    """The hash of the token the app's newest one replaced (None: only one was issued)."""
    with task_store(conch.data_dir).engine.begin() as conn:
        row = conn.execute(
            select(chanjing_apps.c.previous_token_hash).where(chanjing_apps.c.app_id == app_id)
        ).one()
    return row.previous_token_hash  # type: ignore[no-any-return]
