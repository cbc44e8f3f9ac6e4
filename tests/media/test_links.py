"""Signed download links, on a clock the test turns: fresh, altered, incomplete, expired."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from conch.media.links import LinkSigner


def _query(url: str) -> tuple[int, str]:
    query = parse_qs(urlsplit(url).query)
    return int(query["expires"][0]), query["signature"][0]


def test_a_link_lives_its_ttl_and_not_a_second_more() -> None:
    now = [1_000_000.0]
    signer = LinkSigner(b"secret", ttl=3600, clock=lambda: now[0])
    url = signer.url("http://conch.example/", 42, "42.mp4")
    assert url.startswith("http://conch.example/downloads/42/42.mp4?")
    expires, signature = _query(url)
    assert expires == 1_003_600
    now[0] += 3600
    assert signer.problem(42, expires, signature) is None
    now[0] += 1
    assert "expired" in (signer.problem(42, expires, signature) or "")


def test_an_altered_or_incomplete_link_is_refused() -> None:
    signer = LinkSigner(b"secret", ttl=60, clock=lambda: 0.0)
    expires, signature = _query(signer.url("http://conch.example", 7, "7.mp4"))
    assert "does not match" in (signer.problem(8, expires, signature) or "")
    assert "does not match" in (signer.problem(7, expires + 60, signature) or "")
    assert "does not match" in (signer.problem(7, expires, "é" + signature[1:]) or "")
    assert "incomplete" in (signer.problem(7, None, signature) or "")
    other = LinkSigner(b"another secret", ttl=60, clock=lambda: 0.0)
    assert "does not match" in (other.problem(7, expires, signature) or "")
