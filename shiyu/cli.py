"""The ``shiyu`` command. Each domain adds its sub-commands through a ``register(subparsers)`` function
in its own ``cli`` module, listed in ``DOMAIN_COMMANDS``; this file only wires them together."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Any

from shiyu.core.config import Settings

DOMAIN_COMMANDS = ["shiyu.core.cli", "shiyu.org.areas.cli", "shiyu.org.identity.cli", "shiyu.demo.cli",
                   "shiyu.triage.cli"]


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        sys.exit(f"配置错误 / configuration error: {exc}")


def command_group(sub: Any, name: str, help_text: str) -> Any:
    """The sub-parsers of ``shiyu <name> …`` (e.g. ``import``), shared by every domain that adds a kind
    under it: the first caller creates the group, later ones get it back."""
    parser = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, help=help_text)
        parser.set_defaults(kinds=parser.add_subparsers(dest=f"{name}_kind", metavar="KIND", required=True))
    return parser.get_default("kinds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shiyu", description="Shiyu 市域 — municipal social governance")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in DOMAIN_COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int | None] = args.handler
    sys.exit(handler(args) or 0)
