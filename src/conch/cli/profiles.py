"""Choosing the service a command talks to: ``--server`` / ``--api-key`` / ``--dialect``, or a
named profile, or, with neither, the embedded engine in this process on ``--data-dir``.

Profiles live in a TOML file (``$CONCH_PROFILES``, else
``$XDG_CONFIG_HOME/conch/profiles.toml``, by default ``~/.config/conch/profiles.toml``),
one table each::

    [hailuo]
    server = "minimax-global"        # a URL, or a preset: minimax-china, quickrouter, ...
    api_key_env = "MINIMAX_API_KEY"  # or api_key = "..." (keep the file private)

    [studio]
    server = "http://10.0.0.7:8000"
    dialect = "chanjing"
    app_id = "..."
    secret_key_env = "STUDIO_SECRET_KEY"  # or secret_key = "..."

Options given on the command line win over the profile, which wins over ``CONCH_*``
environment variables. A profile that names its server takes nothing from ``CONCH_SERVER``,
``CONCH_DIALECT``, ``CONCH_API_KEY``, ``CONCH_APP_ID`` or ``CONCH_SECRET_KEY``: credentials
meant for one server are never sent to another. A file that holds secrets itself should be
readable by its owner only; conch warns when it is not.
"""

from __future__ import annotations

import functools
import os
import shlex
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from conch.cli.options import data_dir_option, require_data_dir, settings_from
from conch.client import Client, Dialect
from conch.client.journal import service_label
from conch.client.presets import PRESETS, resolve
from conch.domain.errors import ConchError

if TYPE_CHECKING:  # the in-process engine and store are imported only when used
    from conch.runner.inprocess import LocalClient

F = TypeVar("F", bound=Callable[..., Any])

PROFILES_ENV = "CONCH_PROFILES"
SECRETS = ("api_key", "secret_key")
FROM_ENVIRONMENT = {f"{name}_env": name for name in SECRETS}
"""Profile keys naming the environment variable a secret is read from."""
PROFILE_KEYS = frozenset({"server", "dialect", "app_id", *SECRETS, *FROM_ENVIRONMENT})
SERVICE_OPTIONS = ("server", "dialect", "api_key", "app_id", "secret_key")
"""The options that choose a server and say who calls it."""
SERVER_ONLY_OPTIONS = ("api_key", "dialect", "app_id", "secret_key")
"""Options that only mean something with a server."""


def profiles_path() -> Path:
    """Where profiles are read from."""
    given = os.environ.get(PROFILES_ENV)
    if given:
        return Path(given).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "conch" / "profiles.toml"


def load_profile(name: str) -> dict[str, str]:
    """The profile ``name``, its ``*_env`` keys resolved; a usage error if it is unusable."""
    path = profiles_path()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise click.UsageError(f"no profiles file at {path} (set {PROFILES_ENV})") from None
    except tomllib.TOMLDecodeError as error:
        raise click.UsageError(f"{path} is not valid TOML: {error}") from None
    _warn_if_exposed(path, profiles)
    profile = profiles.get(name)
    if not isinstance(profile, dict):
        known = ", ".join(profiles) or "none"
        raise click.UsageError(f"no profile {name!r} in {path} (profiles: {known})")
    unknown = set(profile) - PROFILE_KEYS
    if unknown:
        allowed = ", ".join(sorted(PROFILE_KEYS))
        raise click.UsageError(f"profile {name!r} has unknown keys {sorted(unknown)}; {allowed}")
    chosen = {key: str(value) for key, value in profile.items()}
    for key, secret in FROM_ENVIRONMENT.items():
        variable = chosen.pop(key, None)
        if variable is None:
            continue
        if not os.environ.get(variable):
            raise click.UsageError(f"profile {name!r} reads its {secret} from ${variable}, unset")
        chosen[secret] = os.environ[variable]
    return chosen


def _warn_if_exposed(path: Path, profiles: dict[str, Any]) -> None:
    """Warn when the file holds a secret and others than its owner may read it."""
    holds_secret = any(
        isinstance(profile, dict) and any(key in profile for key in SECRETS)
        for profile in profiles.values()
    )
    mode = stat.S_IMODE(path.stat().st_mode)
    if holds_secret and mode & 0o077:
        click.echo(
            f"warning: {path} holds secrets and is readable by others (mode {mode:04o}); "
            f"run: chmod 600 {path}, or read them from the environment (api_key_env, "
            "secret_key_env)",
            err=True,
        )


@dataclass(frozen=True)
class ServiceChoice:
    """The service the options chose: a server (``server`` set) or this process."""

    server: str | None = None
    dialect: str | None = None
    api_key: str | None = field(default=None, repr=False)
    app_id: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    data_dir: Path | None = None

    @property
    def in_process(self) -> bool:
        return self.server is None

    @property
    def label(self) -> str:
        """The server as the journal names it ("in-process" for none)."""
        if self.server is None:
            return "in-process"
        return service_label(*_resolved(self.server, self.dialect))

    def open(self) -> Client | LocalClient:
        """A client for the chosen service."""
        if self.server is None:
            from conch.runner.inprocess import LocalClient

            return LocalClient(settings_from(data_dir=self.data_dir))
        try:
            return Client(
                self.server,
                self.api_key,
                dialect=self.dialect,
                app_id=self.app_id,
                secret_key=self.secret_key,
            )
        except ConchError as error:
            raise click.UsageError(str(error)) from error

    def flags(self) -> str:
        """Command-line options that choose this service again, from any folder (secrets
        left out)."""
        if self.server is None:
            data_dir = settings_from(data_dir=self.data_dir).data_dir.resolve()
            return f" --data-dir {shlex.quote(str(data_dir))}"
        dialect = f" --dialect {self.dialect}" if self.dialect else ""
        return f" --server {shlex.quote(self.server)}{dialect} (and the same credentials)"


def _resolved(server: str, dialect: str | None) -> tuple[str, str]:
    try:
        url, chosen = resolve(server, dialect)
    except ConchError as error:
        raise click.UsageError(str(error)) from error
    return url, chosen.value


def choose(ctx: click.Context, given: dict[str, Any]) -> ServiceChoice:
    """The service from the options' values, the profile and the environment."""
    from_command_line = {
        name: value
        for name, value in given.items()
        if value is not None and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }
    from_environment = {
        name: value
        for name, value in given.items()
        if value is not None and name not in from_command_line
    }
    profile_name = given.get("profile")
    profile = load_profile(profile_name) if profile_name else {}
    if "server" in profile:  # the environment's credentials are for another server
        from_environment = {
            name: value for name, value in from_environment.items() if name not in SERVICE_OPTIONS
        }
    chosen: dict[str, Any] = {**from_environment, **profile, **from_command_line}
    chosen.pop("profile", None)
    if chosen.get("server") is None:
        stray = [name for name in SERVER_ONLY_OPTIONS if name in from_command_line]
        if stray:
            flags = ", ".join("--" + name.replace("_", "-") for name in stray)
            raise click.UsageError(f"{flags} need --server (or --profile) to say which server")
        return ServiceChoice(data_dir=chosen.get("data_dir"))
    if "data_dir" in from_command_line:
        raise click.UsageError("--data-dir is for running in-process; drop --server/--profile")
    return ServiceChoice(**{k: v for k, v in chosen.items() if k != "data_dir"})


def service_options(*, in_process: str, reads: bool = False) -> Callable[[F], F]:
    """Add the service-choosing options to a command, which receives ``service``.

    ``in_process`` says, for this command's help, what happens with no server chosen. A
    command that only ``reads`` never creates the data dir: a missing one is an error.
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def chosen(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in _OPTION_NAMES}
            service = choose(click.get_current_context(), given)
            if reads and service.in_process:
                require_data_dir(settings_from(data_dir=service.data_dir))
            return command(*args, service=service, **kwargs)

        for option in reversed(_options(in_process)):
            chosen = option(chosen)
        return chosen  # type: ignore[return-value]

    return decorate


_PRESET_NAMES = ", ".join(PRESETS)


def _options(in_process: str) -> tuple[Callable[[F], F], ...]:
    return (
        click.option(
            "--server",
            envvar="CONCH_SERVER",
            help=f"The service: a base URL or a preset ({_PRESET_NAMES}) [env CONCH_SERVER]. "
            f"Without it (and --profile), {in_process}.",
        ),
        click.option(
            "--dialect",
            type=click.Choice([dialect.value for dialect in Dialect]),
            envvar="CONCH_DIALECT",
            help="The server's API dialect [env CONCH_DIALECT; the preset's, else minimax].",
        ),
        click.option("--api-key", envvar="CONCH_API_KEY", help="The API key [env CONCH_API_KEY]."),
        click.option(
            "--app-id", envvar="CONCH_APP_ID", help="Chanjing: the app's app_id [env CONCH_APP_ID]."
        ),
        click.option(
            "--secret-key",
            envvar="CONCH_SECRET_KEY",
            help="Chanjing: the app's secret_key [env CONCH_SECRET_KEY].",
        ),
        click.option(
            "--profile",
            envvar="CONCH_PROFILE",
            help=f"A named service from the profiles file [env CONCH_PROFILE; ${PROFILES_ENV}].",
        ),
        data_dir_option,
    )


_OPTION_NAMES = ("server", "dialect", "api_key", "app_id", "secret_key", "profile", "data_dir")
