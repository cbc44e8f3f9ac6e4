"""One adapter per dialect; :func:`adapter_for` picks and configures it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from conch.client.adapters.base import Adapter, Link
from conch.client.adapters.chanjing import ChanjingAdapter
from conch.client.adapters.minimax import MiniMaxAdapter
from conch.client.adapters.minimax_v2 import MiniMaxV2Adapter
from conch.client.adapters.modelverse import ModelverseAdapter
from conch.client.adapters.openai_videos import OpenAIVideosAdapter
from conch.client.presets import Dialect
from conch.client.token_cache import TokenFile
from conch.domain.errors import Unauthorized
from conch.wire.minimax import QUICKROUTER_PREFIX

__all__ = ["Adapter", "Link", "adapter_for"]


def adapter_for(
    dialect: Dialect,
    base_url: str,
    *,
    api_key: str | None = None,
    app_id: str | None = None,
    secret_key: str | None = None,
    token_dir: Path | None = None,
) -> Adapter:
    """The adapter speaking ``dialect`` to ``base_url`` with these credentials.

    Chanjing takes ``app_id`` and ``secret_key`` (or ``api_key="APP_ID:SECRET_KEY"``), and
    shares its token with this machine's other processes through ``token_dir`` (None: not
    shared); the others an ``api_key``.
    """
    if dialect is Dialect.CHANJING:
        if (app_id is None or secret_key is None) and api_key and ":" in api_key:
            app_id, secret_key = api_key.split(":", 1)
        if not app_id or not secret_key:
            raise Unauthorized("chanjing needs app_id and secret_key (or APP_ID:SECRET_KEY)")
        shared = None if token_dir is None else TokenFile(token_dir, base_url, app_id, secret_key)
        return ChanjingAdapter(app_id, secret_key, shared=shared)
    if not api_key:
        raise Unauthorized(f"{dialect} needs an api_key")
    if dialect is Dialect.MODELVERSE:
        return ModelverseAdapter(api_key)
    if dialect is Dialect.MINIMAX_V2:
        return MiniMaxV2Adapter(api_key)
    if dialect is Dialect.OPENAI_VIDEOS:
        return OpenAIVideosAdapter(api_key)
    if dialect is Dialect.QUICKROUTER:
        # QuickRouter's own URL ends with /minimax; a conch serves it under that prefix.
        served = urlsplit(base_url).path.rstrip("/").endswith(QUICKROUTER_PREFIX)
        prefix = "" if served else QUICKROUTER_PREFIX
        return MiniMaxAdapter(api_key, prefix=prefix, dialect=Dialect.QUICKROUTER.value)
    return MiniMaxAdapter(api_key)
