"""What :class:`conch.Client` and :class:`conch.AsyncClient` share: how they are set up
(address, dialect, credentials, waiting policy, their httpx client), and reading a caller's
arguments as a request."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from conch.client.adapters import Adapter, adapter_for
from conch.client.backoff import POLL, RETRY, Backoff, Retry
from conch.client.presets import LOCAL, Dialect, resolve
from conch.client.request import build_request
from conch.client.token_cache import default_token_dir
from conch.domain.errors import InvalidParams
from conch.domain.request import GenerationRequest

H = TypeVar("H", httpx.Client, httpx.AsyncClient)


class ClientBase(abc.ABC, Generic[H]):
    """A service's address, dialect, credentials and waiting policy, and the httpx client
    (blocking or asyncio) that talks to it.

    ``token_cache`` (Chanjing only) says where the app's access token is shared with this
    machine's other processes, so that they do not invalidate each other's: True for
    ``$CONCH_TOKEN_CACHE`` or ``~/.local/state/conch/chanjing-tokens``, a folder, or False
    to keep the token in this client only. ``http`` is an httpx client of the caller's
    (its base URL set to the service's); by default the client makes and closes its own.
    """

    def __init__(
        self,
        base_url: str = LOCAL.name,
        api_key: str | None = None,
        *,
        dialect: Dialect | str | None = None,
        app_id: str | None = None,
        secret_key: str | None = None,
        poll: Backoff = POLL,
        retry: Retry = RETRY,
        token_cache: bool | str | Path = True,
        http: H | None = None,
    ) -> None:
        self.base_url, self.dialect = resolve(base_url, dialect)
        self.adapter: Adapter = adapter_for(
            self.dialect,
            self.base_url,
            api_key=api_key,
            app_id=app_id,
            secret_key=secret_key,
            token_dir=_token_dir(token_cache),
        )
        self.poll = poll
        self.retry = retry
        self._http: H = http if http is not None else self._open_http()

    @abc.abstractmethod
    def _open_http(self) -> H:
        """A new httpx client for ``self.base_url``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, dialect={self.dialect.value!r})"


def _token_dir(token_cache: bool | str | Path) -> Path | None:
    if token_cache is True:
        return default_token_dir()
    if token_cache is False:
        return None
    return Path(token_cache).expanduser()


def request_from(request: GenerationRequest | None, fields: dict[str, Any]) -> GenerationRequest:
    """The request given whole, or built from the SDK's keyword names."""
    if request is not None and fields:
        raise InvalidParams("give a GenerationRequest or keyword fields, not both")
    return request if request is not None else build_request(**fields)
