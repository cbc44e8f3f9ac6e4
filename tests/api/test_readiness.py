"""/healthz says the process answers; /readyz says whether it can work, check by check,
and turns unready (503) when its database goes away, ready again when it is back."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from support.live import SERVER_ENV, LiveConch
from support.tcp_relay import TcpRelay


def _through(relay: TcpRelay, url: str) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{relay.port}"))


def test_readyz_turns_unready_when_the_database_goes_away(
    postgres_url: str, tmp_path: Path
) -> None:
    host = urlsplit(postgres_url)
    with TcpRelay(host.hostname or "127.0.0.1", host.port or 5432) as relay:
        env = {
            **SERVER_ENV,
            "CONCH_WORKERS": "0",
            "CONCH_DATABASE_URL": _through(relay, postgres_url),
        }
        with LiveConch(tmp_path, env) as server:
            ready = httpx.get(f"{server.base_url}/readyz", timeout=30)
            assert ready.status_code == 200, ready.text
            assert ready.json() == {
                "status": "ready",
                "checks": {"database": "ok", "media": "ok", "runners": "ok"},
            }
            relay.cut()
            gone = httpx.get(f"{server.base_url}/readyz", timeout=30)
            assert gone.status_code == 503
            checks = gone.json()["checks"]
            assert gone.json()["status"] == "unready" and checks["database"] != "ok"
            assert (checks["media"], checks["runners"]) == ("ok", "ok")
            assert httpx.get(f"{server.base_url}/healthz", timeout=30).json() == {"status": "ok"}
            relay.mend()
            assert httpx.get(f"{server.base_url}/readyz", timeout=30).status_code == 200
