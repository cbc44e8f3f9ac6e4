"""``conch keys``: create, list and revoke API keys; give them callback signing secrets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from conch.cli.options import data_dir_option, require_data_dir, settings_from
from conch.delivery.signing import new_secret
from conch.services import Services


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
@data_dir_option
def create(name: str, chanjing: bool, signing_secret: bool, data_dir: Path | None) -> None:
    """Create a key; the key itself is printed alone on the last line (and never again)."""
    services = _services(data_dir, create=True)
    record, key = services.keys.create(name)
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
