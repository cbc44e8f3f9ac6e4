"""Standard Webhooks signing, checked against the standardwebhooks package; the keys CLI."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from conch.config import Settings
from conch.delivery.signing import new_secret, signature, signed_headers
from conch.domain.events import new_webhook_id
from conch.services import Services
from support.live import conch_command


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_the_signature_is_the_one_standard_webhooks_computes() -> None:
    secret, body = new_secret(), '{"task_id":"1","status":"success"}'
    timestamp = 1_800_000_000
    expected = Webhook(secret).sign("msg_1", datetime.fromtimestamp(timestamp, UTC), body)
    assert signature(secret, "msg_1", timestamp, body.encode()) == expected


def test_headers_verify_and_an_unsigned_key_sends_none() -> None:
    secret, body = new_secret(), b"{}"
    headers = signed_headers(secret, "msg_abc", body, time.time())
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert Webhook(secret).verify(body, headers) == {}
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(new_secret()).verify(body, headers)
    assert signed_headers(None, "msg_abc", body, time.time()) == {}


def test_webhook_ids_are_fresh_and_fit_the_outbox() -> None:
    ids = {new_webhook_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(webhook_id.startswith("msg_") and len(webhook_id) <= 40 for webhook_id in ids)


def test_keys_create_prints_the_secret_before_the_key(tmp_path: Path) -> None:
    out = conch_command(
        "keys", "create", "--name", "s", "--signing-secret", "--chanjing",
        "--data-dir", str(tmp_path),
    ).stdout.strip().splitlines()  # fmt: skip
    secret_line, pair, key = out[-3:]
    assert secret_line.startswith("signing_secret=whsec_") and pair.startswith("app_id=")
    assert key.startswith("sk-conch-")  # still alone on the last line
    services = Services.open(Settings(data_dir=tmp_path))
    owner = services.keys.authenticate(key)
    assert services.keys.signing_secret(owner.id) == secret_line.partition("=")[2]


def test_keys_signing_secret_replaces_a_keys_secret(tmp_path: Path) -> None:
    conch_command("keys", "create", "--name", "plain", "--data-dir", str(tmp_path))
    services = Services.open(Settings(data_dir=tmp_path))
    assert services.keys.signing_secret(1) is None
    first = conch_command("keys", "signing-secret", "1", "--data-dir", str(tmp_path)).stdout
    second = conch_command("keys", "signing-secret", "1", "--data-dir", str(tmp_path)).stdout
    assert first.strip() != second.strip()
    assert services.keys.signing_secret(1) == second.strip()
    with pytest.raises(AssertionError, match="no active key 7"):
        conch_command("keys", "signing-secret", "7", "--data-dir", str(tmp_path))
