"""What ``conch serve`` prints as it starts: where it serves, and lines to try it that work
when pasted as printed, offline.

First the web studio's address: on the first start, a link that signs in with the new key
(in the URL fragment). The try-it lines send two pictures that ship with conch as data URLs
(no internet, and no private-address rule in the way) through MiniMax's own submit call
with curl. The first start prints its new key in the link and in the line that exports it;
later starts print a line that makes a key unless ``CONCH_API_KEY`` is already set (a
stored key cannot be shown again), and the link without a key.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from urllib.parse import quote

from conch import __version__
from conch.config import S3Location, Settings
from conch.net.targets import display_url

KEY_VARIABLE = "CONCH_API_KEY"
EXAMPLE_PROMPT = "[Push in] a cup of coffee on a wooden table"
EXAMPLE_MODEL = "MiniMax-Hailuo-02"
TRY_IT_KEY_NAME = "try-it"


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
"""The pictures that ship with conch (package data)."""


def example_pictures() -> tuple[Path, Path]:
    """The bundled first and last frames."""
    return EXAMPLES / "coffee-first.jpg", EXAMPLES / "coffee-last.jpg"


def local_url(settings: Settings) -> str:
    """The address a shell on this machine reaches the server at."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host, settings.host)
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{settings.port}"


def key_line(new_key: str | None, settings: Settings) -> str:
    """The line that exports the key: the new one, or one made now unless one is set."""
    if new_key is not None:
        return f"export {KEY_VARIABLE}={new_key}"
    conch = f"{shlex.quote(sys.executable)} -m conch"
    data_dir = shlex.quote(str(settings.data_dir.resolve()))
    made = f"$({conch} keys create --name {TRY_IT_KEY_NAME} --data-dir {data_dir})"
    return f'export {KEY_VARIABLE}="${{{KEY_VARIABLE}:-{made}}}"'


def studio_link(base: str, new_key: str | None) -> str:
    """The studio's address; on the first start it signs in with the new key.

    The key rides in the fragment, which a browser never sends: no server or proxy log
    sees it.
    """
    return f"{base}/#key={quote(new_key, safe='')}" if new_key is not None else f"{base}/"


def studio_lines(base: str, new_key: str | None) -> list[str]:
    """Where to make, watch and keep videos in a browser."""
    if new_key is not None:
        about = "Make, watch and keep videos in your browser (this link signs you in):"
    else:
        about = "Make, watch and keep videos in your browser (sign in with your key):"
    return [about, f"  {studio_link(base, new_key)}"]


def submit_line(base: str) -> str:
    """A curl submit of the bundled pictures, first and last frame, as data URLs."""
    first, last = example_pictures()
    body = (
        f'{{"model":"{EXAMPLE_MODEL}","prompt":"{EXAMPLE_PROMPT}",'
        '"first_frame_image":"data:image/jpeg;base64,%s",'
        '"last_frame_image":"data:image/jpeg;base64,%s"}'
    )
    encoded = " ".join(
        f"\"$(base64 < {shlex.quote(str(path))} | tr -d '\\n')\"" for path in (first, last)
    )
    return (
        f"printf {shlex.quote(body)} {encoded} | curl -s {base}/v1/video_generation "
        f'-H "Authorization: Bearer ${KEY_VARIABLE}" -H "Content-Type: application/json" -d @-'
    )


def query_line(base: str) -> str:
    return (
        f'curl -s "{base}/v1/query/video_generation?task_id=TASK_ID" '
        f'-H "Authorization: Bearer ${KEY_VARIABLE}"'
    )


def outbound_rule(settings: Settings) -> str:
    """What addresses the server will fetch images from and send callbacks to."""
    if settings.allow_private_urls:
        return "any address but cloud metadata (CONCH_ALLOW_PRIVATE_URLS is on)"
    if settings.allowed_networks:
        allowed = ", ".join(settings.allowed_networks)
        return f"public addresses, and {allowed} (CONCH_ALLOWED_NETWORKS)"
    return (
        "public addresses only: private and loopback ones are refused "
        "(CONCH_ALLOW_PRIVATE_URLS=true or CONCH_ALLOWED_NETWORKS allows them)"
    )


def media_where(settings: Settings) -> str:
    """Where media lives (CONCH_STORAGE_URL), with no credential."""
    location = settings.media_location
    if isinstance(location, S3Location):
        endpoint = settings.s3_endpoint_url
        at = f" at {display_url(endpoint)}" if endpoint else ""
        return f"s3://{location.bucket}/{location.prefix}{at}"
    return str(location.resolve())


def greeting(settings: Settings, new_key: str | None, runners: int, engines: str) -> str:
    """The whole start banner."""
    base = local_url(settings)
    if new_key is not None:
        about_key = [
            "Your first API key is in the first line. It is shown once: keep it",
            "(`conch keys create` makes more).",
        ]
    else:
        about_key = [
            f"The first line makes a key named {TRY_IT_KEY_NAME} unless {KEY_VARIABLE} holds yours."
        ]
    return "\n".join(
        [
            f"conch {__version__} is serving {base}, with data in {settings.data_dir.resolve()}",
            "",
            *studio_lines(base, new_key),
            "",
            "Try it: paste these two lines into a shell. They need no internet: the pictures",
            "ship with conch.",
            *about_key,
            "",
            f"  {key_line(new_key, settings)}",
            f"  {submit_line(base)}",
            "",
            "It answers a task_id; ask how the task is doing with:",
            f"  {query_line(base)}",
            "",
            f"  API docs:    {base}/docs",
            f"  image URLs:  {outbound_rule(settings)}",
            f"  runners:     {runners} process(es)",
            *_broker_lines(settings),
            f"  engines:     {engines}",
            f"  media:       {media_where(settings)}",
            "",
        ]
    )


def _broker_lines(settings: Settings) -> list[str]:
    """Where the fleet's tasks go, when a broker is set (its password masked)."""
    if settings.broker_url is None:
        return []
    from kombu.utils.url import maybe_sanitize_url

    shown = maybe_sanitize_url(settings.broker_url)
    return [f"  broker:      {shown} (`conch worker` processes run the tasks)"]
