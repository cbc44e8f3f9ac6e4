"""``conch keys``: create, list and revoke API keys; give them callback signing secrets,
limits (submits and reads a minute, tasks in flight) and balances in video-seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from conch.cli.limits import (
    Balance,
    LimitOption,
    balance_option,
    limit_options,
    limits_from,
    show_key,
)
from conch.cli.options import data_dir_option, require_data_dir, settings_from
from conch.delivery.signing import new_secret
from conch.domain.errors import InvalidParams
from conch.services import Services
from conch.store.limits import LimitStore


def _services(data_dir: Path | None, *, create: bool = False) -> Services:
    """The data dir's services; only a command that creates a key may create the data dir."""
    settings = settings_from(data_dir=data_dir)
    if not create:
        require_data_dir(settings)
    return Services.open(settings)


@click.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--name", required=True, help="A label for the key (who or what uses it).")
@click.option(
    "--chanjing",
    is_flag=True,
    help="Also create a Chanjing app bound to the key; prints app_id=... secret_key=... first.",
)
@click.option(
    "--signing-secret",
    is_flag=True,
    help="Sign the key's callback pushes (Standard Webhooks); prints signing_secret=whsec_...",
)
@limit_options
@balance_option("Meter the key: a balance of SECONDS of video [default: unlimited].")
@data_dir_option
def create(
    name: str,
    chanjing: bool,
    signing_secret: bool,
    data_dir: Path | None,
    balance: Balance | None,
    **limits: LimitOption,
) -> None:
    """Create a key; the key itself is printed alone on the last line (and never again)."""
    services = _services(data_dir, create=True)
    record, key = services.keys.create(name)
    LimitStore(services.db).set(record.id, limits_from(limits))
    if isinstance(balance, int):
        services.ledger.meter(record.id, balance)
    click.echo(f"created key {record.id} ({record.name})", err=True)
    if signing_secret:
        click.echo(f"signing_secret={_new_signing_secret(services, record.id)}")
    if chanjing:
        app = services.chanjing.create_app(record.id)
        click.echo(f"app_id={app.app_id} secret_key={app.secret_key}")
    click.echo(key)


@keys.command("list")
@data_dir_option
def list_keys(data_dir: Path | None) -> None:
    """List keys (their prefixes; keys themselves are not stored)."""
    for record in _services(data_dir).keys.list():
        created = datetime.fromtimestamp(record.created_at, UTC).strftime("%Y-%m-%d %H:%M")
        state = "active" if record.active else "revoked"
        click.echo(f"{record.id}\t{record.name}\t{record.prefix}...\t{created}\t{state}")


@keys.command("revoke")
@click.argument("key_id", type=int)
@data_dir_option
def revoke(key_id: int, data_dir: Path | None) -> None:
    """Revoke key KEY_ID: calls with it are refused from now on."""
    if not _services(data_dir).keys.revoke(key_id):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked key {key_id}")


@keys.command("signing-secret")
@click.argument("key_id", type=int)
@data_dir_option
def new_signing_secret(key_id: int, data_dir: Path | None) -> None:
    """Give key KEY_ID a new callback signing secret (replacing its old one) and print it."""
    services = _services(data_dir)
    record = services.keys.get(key_id)
    if record is None or not record.active:
        raise click.ClickException(f"no active key {key_id}")
    click.echo(_new_signing_secret(services, key_id))


def _new_signing_secret(services: Services, key_id: int) -> str:
    secret = new_secret()
    services.keys.set_signing_secret(key_id, secret)
    return secret


@keys.command("update")
@click.argument("key_id", type=int)
@limit_options
@balance_option(
    "Meter an unlimited key with a balance of SECONDS, or make a key unlimited; add to a "
    "balance with `conch keys topup`."
)
@data_dir_option
def update(
    key_id: int, data_dir: Path | None, balance: Balance | None, **limits: LimitOption
) -> None:
    """Change key KEY_ID's limits (those not given stay) or balance; then show the key."""
    services = _services(data_dir)
    record = services.keys.get(key_id)
    if record is None:
        raise click.ClickException(f"no key {key_id}")
    changed = {name: value for name, value in limits.items() if value is not None}
    if changed:
        merged = {**record.limits.__dict__, **changed}
        LimitStore(services.db).set(key_id, limits_from(merged))
    try:
        if balance == "unlimited":
            services.ledger.unmeter(key_id)
        elif isinstance(balance, int):
            services.ledger.meter(key_id, balance)
    except InvalidParams as refused:
        raise click.ClickException(refused.detail) from None
    show_key(services, key_id)


@keys.command("topup")
@click.argument("key_id", type=int)
@click.argument("seconds", type=click.IntRange(min=1))
@data_dir_option
def topup(key_id: int, seconds: int, data_dir: Path | None) -> None:
    """Add SECONDS of video to key KEY_ID's balance."""
    services = _services(data_dir)
    try:
        account = services.ledger.topup(key_id, seconds)
    except InvalidParams as refused:
        raise click.ClickException(
            f"{refused.detail}: `conch keys update {key_id} --balance SECONDS`"
        ) from None
    click.echo(f"key {key_id}: balance {account.balance} s, {account.available} s available")


@keys.command("show")
@click.argument("key_id", type=int)
@click.option("--ledger", "with_ledger", is_flag=True, help="Also print the key's ledger.")
@data_dir_option
def show(key_id: int, with_ledger: bool, data_dir: Path | None) -> None:
    """Show key KEY_ID's limits and balance (and, with --ledger, every ledger entry)."""
    services = _services(data_dir)
    if services.keys.get(key_id) is None:
        raise click.ClickException(f"no key {key_id}")
    show_key(services, key_id, with_ledger=with_ledger)
