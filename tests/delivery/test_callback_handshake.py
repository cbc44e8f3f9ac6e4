"""The handshake against a real receiver on 127.0.0.1: success, and each reason it fails."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from ipaddress import ip_network

import pytest
from standardwebhooks import Webhook

from conch.delivery.handshake import HANDSHAKE_SECONDS, MAX_ANSWER_BYTES, handshake
from conch.delivery.signing import new_secret
from conch.domain.errors import InvalidParams
from conch.net import OutboundPolicy
from support.live import free_port
from support.receiver import Received, Receiver, Reply, receiving

# As a deployment would: only this machine's 127.0.0.1 is let through, for the tests.
POLICY = OutboundPolicy(allowed_networks=(ip_network("127.0.0.1/32"),))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


def refusal(url: str, **options: object) -> str:
    """The message of the InvalidParams a failed handshake raises."""
    with pytest.raises(InvalidParams) as refused:
        asyncio.run(handshake(url, POLICY, **options))  # type: ignore[arg-type]
    assert refused.value.field == "callback_url"
    message = refused.value.message()
    assert message.startswith("callback_url: the callback handshake failed: ")
    return message


def test_an_echoed_challenge_passes(receiver: Receiver) -> None:
    url = receiver.route("/hook")
    asyncio.run(handshake(url, POLICY))
    [request] = receiver.requests("/hook")
    assert request.headers["content-type"] == "application/json"
    assert request.is_handshake and len(request.json["challenge"]) >= 32
    assert "webhook-signature" not in request.headers  # the key has no signing secret


def test_each_handshake_draws_a_fresh_challenge(receiver: Receiver) -> None:
    url = receiver.route("/hook")
    asyncio.run(handshake(url, POLICY))
    asyncio.run(handshake(url, POLICY))
    first, second = (request.json["challenge"] for request in receiver.requests("/hook"))
    assert first != second


def test_a_key_with_a_signing_secret_signs_the_handshake(receiver: Receiver) -> None:
    secret = new_secret()
    asyncio.run(handshake(receiver.route("/signed"), POLICY, secret=secret))
    [request] = receiver.requests("/signed")
    assert Webhook(secret).verify(request.body, request.headers)["challenge"]


def test_a_receiver_slower_than_3_s_is_refused(receiver: Receiver) -> None:
    url = receiver.route("/slow", lambda _request: Reply(delay=HANDSHAKE_SECONDS + 1.5))
    message = refusal(url)
    # Only the deadline says this: had conch waited for the answer (a 200 with "{}"), the
    # refusal would name the missing challenge instead.
    assert "did not answer within 3 s" in message
    [request] = receiver.requests("/slow")  # the request arrived; only its answer was late
    assert request.is_handshake


def test_a_wrong_echo_is_refused(receiver: Receiver) -> None:
    url = receiver.route("/wrong", lambda _request: Reply(body=b'{"challenge": "not-it"}'))
    assert "echoed a different challenge ('not-it')" in refusal(url)


def test_an_answer_without_the_challenge_is_refused(receiver: Receiver) -> None:
    url = receiver.route("/ok", lambda _request: Reply(body=b'{"status": "success"}'))
    assert 'not a JSON object with a "challenge" field' in refusal(url)
    url = receiver.route("/text", lambda _request: Reply(body=b"OK"))
    assert 'not a JSON object with a "challenge" field' in refusal(url)


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_an_error_status_is_refused_even_with_the_echo(receiver: Receiver, status: int) -> None:
    # The body sent back is the handshake's own: the right echo, under the wrong status.
    url = receiver.route("/err", lambda request: Reply(status=status, body=request.body))
    assert f"the receiver answered HTTP {status};" in refusal(url)


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    target = receiver.route("/target")
    url = receiver.route("/moved", lambda _request: Reply(302, headers={"Location": target}))
    message = refusal(url)
    assert "HTTP 302, a redirect to" in message and "follow no redirects" in message
    assert receiver.requests("/target") == []


def test_a_compressed_or_oversized_answer_is_refused(receiver: Receiver) -> None:
    def gzipped(request: Received) -> Reply:
        echo = json.dumps({"challenge": request.json["challenge"]}).encode()
        return Reply(body=gzip.compress(echo), headers={"Content-Encoding": "gzip"})

    message = refusal(receiver.route("/gzip", gzipped))
    assert "Content-Encoding 'gzip'; send it unencoded" in message

    def padded(request: Received) -> Reply:
        echo = {"challenge": request.json["challenge"], "pad": "x" * MAX_ANSWER_BYTES}
        return Reply(body=json.dumps(echo).encode())

    assert f"the answer's body was over the limit of {MAX_ANSWER_BYTES} bytes" in refusal(
        receiver.route("/padded", padded)
    )


def test_a_304_is_an_error_status_not_a_redirect(receiver: Receiver) -> None:
    not_modified = Reply(304, body=b"", headers={"Location": "/x"})
    message = refusal(receiver.route("/cached", lambda _request: not_modified))
    assert "the receiver answered HTTP 304;" in message and "redirect" not in message


def test_a_redirects_location_is_shown_without_its_secrets(receiver: Receiver) -> None:
    target = "https://user:pw@elsewhere.example/hook?token=s3cret"
    url = receiver.route("/moved", lambda _request: Reply(302, headers={"Location": target}))
    message = refusal(url)
    assert "a redirect to 'https://elsewhere.example/hook'" in message
    assert "s3cret" not in message and "pw@" not in message


def test_a_refused_address_is_never_contacted() -> None:
    # 127.0.0.2 is loopback too, but outside what the policy allows.
    with receiving("127.0.0.2") as elsewhere:
        message = refusal(elsewhere.route("/hook"))
        assert elsewhere.requests("/hook") == []
    assert "address 127.0.0.2" in message and "CONCH_ALLOWED_NETWORKS" in message


def test_a_closed_port_is_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    assert "could not connect to 127.0.0.1" in refusal(url)
