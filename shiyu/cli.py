"""The ``shiyu`` command. Each domain adds its sub-commands through a ``register(subparsers)`` function
in its own ``cli`` module, listed in ``DOMAIN_COMMANDS``; this file only wires them together."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from shiyu.core.config import Settings

DOMAIN_COMMANDS = ["shiyu.core.cli", "shiyu.demo.cli"]


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        sys.exit(f"配置错误 / configuration error: {exc}")


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
