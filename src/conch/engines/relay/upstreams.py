"""The upstreams an operator configured (``[upstreams.NAME]``): each kind's dialect and public
base URL, the credentials read from the environment, and the start-up check.

Secrets come only from the environment variables the configuration names; they are read
when an adapter is built and live in no record, log line or error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from conch.client.adapters import Adapter, adapter_for
from conch.client.presets import CHANJING, MINIMAX_CHINA, MODELVERSE, QUICKROUTER, Dialect
from conch.config import ModelRoute, Settings, Upstream
from conch.domain import urls
from conch.domain.errors import InvalidParams
from conch.domain.urls import UrlRefused

RELAY = "relay"


@dataclass(frozen=True)
class Kind:
    """What a kind of upstream speaks, and where the public service is (None: no default)."""

    dialect: Dialect | None
    """None: the configuration says (``dialect``, for a conch)."""
    base_url: str | None
    cancels: bool = False
    """Whether the upstream has a call that cancels a task: a conch has one in every
    dialect (its own, or the dialect's), a /v1/videos server its DELETE; MiniMax, its
    resellers and Chanjing have none."""


KINDS: Mapping[str, Kind] = {
    "minimax": Kind(Dialect.MINIMAX, MINIMAX_CHINA.base_url),
    "quickrouter": Kind(Dialect.QUICKROUTER, QUICKROUTER.base_url),
    "modelverse": Kind(Dialect.MODELVERSE, MODELVERSE.base_url),
    "chanjing": Kind(Dialect.CHANJING, CHANJING.base_url),
    "openai-videos": Kind(Dialect.OPENAI_VIDEOS, None, cancels=True),
    "conch": Kind(None, None, cancels=True),
}


@dataclass(frozen=True)
class Endpoint:
    """One configured upstream, resolved: its name, dialect, base URL and terms."""

    name: str
    dialect: Dialect
    base_url: str
    terms: Upstream = field(repr=False)

    @property
    def cancels(self) -> bool:
        """Whether the upstream has a call that cancels a task."""
        return KINDS[self.terms.kind].cancels

    def adapter(self, environ: Mapping[str, str] | None = None) -> Adapter:
        """An adapter carrying the credentials read from the environment now."""
        env = os.environ if environ is None else environ
        terms = self.terms
        if self.dialect is Dialect.CHANJING:
            return adapter_for(
                self.dialect,
                self.base_url,
                app_id=_secret(env, terms.app_id_env),
                secret_key=_secret(env, terms.secret_key_env),
            )
        return adapter_for(self.dialect, self.base_url, api_key=_secret(env, terms.api_key_env))


def endpoint(name: str, settings: Settings) -> Endpoint:
    """The upstream ``name`` as configured; ValueError naming what is wrong."""
    terms = settings.upstreams.get(name)
    if terms is None:
        known = ", ".join(sorted(settings.upstreams)) or "none are configured"
        raise ValueError(f"unknown upstream {name!r}; configured upstreams: {known}")
    kind = KINDS.get(terms.kind)
    where = f"upstreams.{name}"
    if kind is None:
        raise ValueError(f"{where}.kind: unknown kind {terms.kind!r}; known: {', '.join(KINDS)}")
    if kind.dialect is None:
        if terms.dialect is None:
            raise ValueError(f"{where}.dialect: a conch upstream needs the dialect to speak")
        try:
            dialect = Dialect.parse(terms.dialect)
        except InvalidParams as error:
            raise ValueError(f"{where}.dialect: {error.detail}") from None
    elif terms.dialect is not None:
        raise ValueError(f"{where}.dialect: only a conch upstream takes a dialect")
    else:
        dialect = kind.dialect
    base_url = terms.base_url or kind.base_url
    if base_url is None:
        raise ValueError(f"{where}.base_url: kind {terms.kind} has no public default; set it")
    try:
        urls.parse_url(base_url)
    except UrlRefused as refused:
        raise ValueError(f"{where}.base_url: {refused.reason}") from None
    return Endpoint(name, dialect, base_url.rstrip("/"), terms)


def credential_variables(endpoint: Endpoint) -> dict[str, str | None]:
    """The settings naming the endpoint's secrets, and the variable each names."""
    terms = endpoint.terms
    if endpoint.dialect is Dialect.CHANJING:
        return {"app_id_env": terms.app_id_env, "secret_key_env": terms.secret_key_env}
    return {"api_key_env": terms.api_key_env}


def check_upstreams(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Refuse at start-up an upstream of unknown kind, a model naming an unknown upstream,
    or a credential variable that is unnamed or unset (the error names it, never a value)."""
    env = os.environ if environ is None else environ
    for name in settings.upstreams:
        resolved = endpoint(name, settings)
        for setting, variable in credential_variables(resolved).items():
            if not variable:
                raise ValueError(f"upstreams.{name}.{setting}: name the environment variable")
            if not env.get(variable):
                raise ValueError(
                    f"upstreams.{name}.{setting}: the environment variable {variable} is not set"
                )
    for model, route in settings.models.items():
        if route.engine == RELAY:
            check_route(model, route, settings)


def check_route(model: str, route: ModelRoute, settings: Settings) -> None:
    """A relay route names at least one upstream, each configured."""
    if not route.upstreams:
        raise ValueError(f"models.{model}.upstreams: the relay needs at least one upstream")
    for name in route.upstreams:
        if name not in settings.upstreams:
            known = ", ".join(sorted(settings.upstreams)) or "none are configured"
            raise ValueError(
                f"models.{model}.upstreams: unknown upstream {name!r}; configured: {known}"
            )


def _secret(env: Mapping[str, str], variable: str | None) -> str | None:
    return env.get(variable) if variable else None
