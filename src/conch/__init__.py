"""conch: a self-hostable video-generation service speaking the MiniMax Hailuo API."""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["AsyncClient", "Client", "__version__"]

if TYPE_CHECKING:
    from conch.client import AsyncClient, Client


def __getattr__(name: str) -> Any:
    # The SDK loads on first use: `import conch` stays light for the server and the CLI.
    if name in ("Client", "AsyncClient"):
        import conch.client

        return getattr(conch.client, name)
    raise AttributeError(f"module 'conch' has no attribute {name!r}")
