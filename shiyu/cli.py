"""The ``shiyu`` command. Each domain adds its sub-commands through a ``register(subparsers)`` function
in its own ``cli`` module, listed in ``DOMAIN_COMMANDS``; this file only wires them together. The helpers those
modules share (settings, command groups) live below them, in ``shiyu.core.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

DOMAIN_COMMANDS = ["shiyu.platform_cli", "shiyu.org.areas.cli", "shiyu.org.identity.cli", "shiyu.demo.cli",
                   "shiyu.triage.cli", "shiyu.cases.reports.cli"]


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
