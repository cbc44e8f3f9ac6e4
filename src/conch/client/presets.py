"""The dialects the SDK speaks, and the base URLs of the real services.

A base URL may be given by a preset's name (``"minimax-global"``), which also picks the
dialect; a URL with no dialect speaks MiniMax's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from conch.domain.errors import InvalidParams
from conch.wire import chanjing, minimax, minimax_v2, modelverse, openai_videos


class Dialect(StrEnum):
    """A wire format: MiniMax's own (v1 and v2), one of its resellers', or OpenAI's videos."""

    MINIMAX = minimax.DIALECT
    QUICKROUTER = "quickrouter"
    MODELVERSE = modelverse.DIALECT
    CHANJING = chanjing.DIALECT
    MINIMAX_V2 = minimax_v2.DIALECT
    OPENAI_VIDEOS = openai_videos.DIALECT

    @classmethod
    def parse(cls, name: str) -> Dialect:
        try:
            return cls(name.strip().lower())
        except ValueError:
            allowed = ", ".join(dialect.value for dialect in cls)
            raise InvalidParams(
                f"must be one of {allowed}, got {name!r}", field="dialect"
            ) from None


@dataclass(frozen=True)
class Preset:
    """A service's base URL and the dialect it speaks."""

    name: str
    base_url: str
    dialect: Dialect


MINIMAX_CHINA = Preset("minimax-china", "https://api.minimaxi.com", Dialect.MINIMAX)
MINIMAX_GLOBAL = Preset("minimax-global", "https://api.minimax.io", Dialect.MINIMAX)
QUICKROUTER = Preset(
    "quickrouter", f"https://api.quickrouter.ai{minimax.QUICKROUTER_PREFIX}", Dialect.QUICKROUTER
)
MINIMAX_V2_GLOBAL = Preset("minimax-v2-global", "https://api.minimax.io", Dialect.MINIMAX_V2)
MODELVERSE = Preset("modelverse", "https://api.modelverse.cn", Dialect.MODELVERSE)
CHANJING = Preset("chanjing", "https://open-api.chanjing.cc", Dialect.CHANJING)
LOCAL = Preset("local", "http://127.0.0.1:8000", Dialect.MINIMAX)
"""A conch on this machine with the default settings (``conch serve``)."""

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        MINIMAX_CHINA,
        MINIMAX_GLOBAL,
        MINIMAX_V2_GLOBAL,
        QUICKROUTER,
        MODELVERSE,
        CHANJING,
        LOCAL,
    )
}


def resolve(base_url: str, dialect: Dialect | str | None) -> tuple[str, Dialect]:
    """The base URL and dialect that ``base_url`` (a URL or a preset's name) stands for."""
    preset = PRESETS.get(base_url.strip().lower())
    if preset is not None:
        url, default = preset.base_url, preset.dialect
    elif "://" in base_url:
        url, default = base_url.strip(), Dialect.MINIMAX
    else:
        names = ", ".join(PRESETS)
        raise InvalidParams(
            f"must be an http(s) URL or a preset ({names}), got {base_url!r}", field="base_url"
        )
    chosen = default if dialect is None else Dialect.parse(str(dialect))
    return url.rstrip("/"), chosen
