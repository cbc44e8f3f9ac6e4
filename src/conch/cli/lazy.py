"""A command group that imports a subcommand's module only when that subcommand runs.

Each command pulls in a different part of conch (the server, the store, the SDK, Celery);
importing them all made every ``conch`` call pay for every command's imports. Even the
command list of ``conch --help`` is drawn without importing them: each summary is read from
its command's docstring in the module's source.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path

import click


class LazyGroup(click.Group):
    """A group whose subcommands are named as ``"module:attribute"`` and loaded on use."""

    def __init__(self, *args: object, lazy: Mapping[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = dict(lazy)
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return self._outline(cmd_name)
        return self._load(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, each command drawn from its outline (nothing imported)."""
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False

    def _load(self, name: str) -> click.Command:
        module_name, attribute = self.lazy[name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name]} is not a click command")
        return command

    def _outline(self, name: str) -> click.Command:
        """A stand-in for command ``name`` that knows its help text alone (for listing)."""
        module_name, attribute = self.lazy[name].split(":")
        spec = importlib.util.find_spec(module_name)
        if spec is None or spec.origin is None:
            return self._load(name)  # let the import say what is wrong
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == attribute:
                return click.Command(name, help=ast.get_docstring(node))
        return self._load(name)
