"""The ``shiyu`` command. Each domain adds its sub-commands through a ``register(subparsers)`` function
in its own ``cli`` module, declared as ``Domain.commands``; the platform's own (serve, worker, db, pii) and
the demo city come first. This file only wires them together. The helpers those modules share (settings,
command groups) live below them, in ``shiyu.core.commands``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from shiyu import domains, platform_cli
from shiyu.demo import cli as demo_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shiyu", description="Shiyu 市域 — municipal social governance")
    sub = parser.add_subparsers(dest="command", required=True)
    domains.install()
    for module in (platform_cli, demo_cli, *(m for d in domains.DOMAINS for m in d.commands)):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int | None] = args.handler
    sys.exit(handler(args) or 0)
