"""The options that set a key's limits and balance, and how a key's terms are shown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import click

from conch.services import Services
from conch.store.limits import UNLIMITED, KeyLimits, effective

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT = "default"
"""A limit option's value that hands the key back to the settings' default."""
UNLIMITED_WORD = "unlimited"

LimitOption = int | Literal["default"] | None
"""A limit as given: a number (0: unlimited), ``default``, or None when not given."""
Balance = int | Literal["unlimited"]


class LimitType(click.ParamType[int | str, Any]):
    """A limit: a whole number (0 or ``unlimited``: no limit) or ``default``."""

    name = "N|unlimited|default"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | str:
        text = str(value).strip().lower()
        if text == DEFAULT:
            return DEFAULT
        if text == UNLIMITED_WORD:
            return UNLIMITED
        if text.isdigit():
            return int(text)
        self.fail(f"{value!r}: give a whole number, {UNLIMITED_WORD} or {DEFAULT}", param, ctx)


class BalanceType(click.ParamType[int | str, Any]):
    """A balance: whole seconds (1 or more), or ``unlimited``."""

    name = "SECONDS|unlimited"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | str:
        text = str(value).strip().lower()
        if text == UNLIMITED_WORD:
            return UNLIMITED_WORD
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{value!r}: give whole seconds (1 or more) or {UNLIMITED_WORD}", param, ctx)


_LIMITS = (
    ("--rpm", "submit_rpm", "Submits a minute"),
    ("--read-rpm", "read_rpm", "Reads (status, files, lists) a minute"),
    ("--concurrency", "concurrency", "Tasks in flight at once"),
)


def limit_options(command: F) -> F:
    """``--rpm``, ``--read-rpm`` and ``--concurrency`` (not given: unchanged, or on a new
    key the settings' default)."""
    for flag, name, what in reversed(_LIMITS):
        command = click.option(
            flag,
            name,
            type=LimitType(),
            default=None,
            help=f"{what}: N, {UNLIMITED_WORD}, or {DEFAULT} (the server's setting).",
        )(command)
    return command


def balance_option(help_text: str) -> Callable[[F], F]:
    return click.option("--balance", type=BalanceType(), default=None, help=help_text)


def limits_from(given: Mapping[str, LimitOption]) -> KeyLimits:
    """The key's own limits from options (``default`` and not given: none of its own)."""
    chosen = {name: value for name, value in given.items() if isinstance(value, int)}
    return KeyLimits(**chosen)


def show_key(services: Services, key_id: int, *, with_ledger: bool = False) -> None:
    """Print a key's limits in force (and where each comes from) and its balance."""
    record = services.keys.get(key_id)
    assert record is not None
    settings = services.settings
    defaults = {
        "submit_rpm": settings.default_rpm,
        "read_rpm": settings.default_read_rpm,
        "concurrency": settings.default_concurrency,
    }
    click.echo(f"key {record.id} ({record.name}, {'active' if record.active else 'revoked'})")
    for flag, name, what in _LIMITS:
        own = getattr(record.limits, name)
        limit = effective(own, defaults[name])
        source = "the server's default" if own is None else "its own"
        click.echo(f"  {what.lower()} ({flag}): {limit or UNLIMITED_WORD} ({source})")
    account = services.ledger.account(key_id)
    if account is None or not account.metered:
        click.echo("  balance: unlimited")
    else:
        click.echo(
            f"  balance: {account.balance} s, {account.reserved} s of it held by tasks in "
            f"flight, {account.available} s available"
        )
    if with_ledger:
        for entry in services.ledger.entries(key_id):
            when = datetime.fromtimestamp(entry.created_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
            task = entry.task_id if entry.task_id is not None else "-"
            click.echo(f"{entry.id}\t{when}\t{entry.kind.value}\t{entry.seconds}\t{task}")
