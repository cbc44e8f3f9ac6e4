"""The receiver-side verifier that README.md and docs/callbacks.md show works on conch's
signatures."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conch.delivery.signing import new_secret, signed_headers

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", ROOT / "docs" / "callbacks.md"]

Verify = Callable[[str, dict[str, str], bytes], bool]


def documented_verify(doc: Path) -> Verify:
    """The ``verify`` function of the doc's Python block, as a reader would paste it."""
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.DOTALL)
    [source] = [block for block in blocks if "def verify(" in block]
    namespace: dict[str, object] = {}
    exec(source, namespace)
    verify: Verify = namespace["verify"]  # type: ignore[assignment]
    return verify


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_the_documented_verifier_accepts_conchs_signatures_and_nothing_else(doc: Path) -> None:
    verify = documented_verify(doc)
    secret, body = new_secret(), b'{"task_id":"1","status":"success"}'
    headers = signed_headers(secret, "msg_doc", body, time.time())
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace(b"success", b"failed"))
    assert not verify(new_secret(), headers, body)
    stale = signed_headers(secret, "msg_doc", body, time.time() - 3600)
    assert not verify(secret, stale, body)
