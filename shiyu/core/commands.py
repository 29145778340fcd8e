"""What every ``cli`` module needs, whatever its layer: the settings (a clear exit on bad configuration) and
shared command groups. Kept in ``core`` so a domain's commands never import the ``shiyu`` command itself."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from shiyu.core.config import Settings


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        sys.exit(f"配置错误 / configuration error: {exc}")


def table_imports(sub: Any, kinds: dict[str, str], handler: Any) -> None:
    """``shiyu import <kind> FILE [--dry-run] [--encoding E]`` for each spreadsheet kind a domain reads (XLSX or
    CSV, checked as a whole): ``kinds`` maps the kind to what its columns are; ``handler`` gets ``args.kind``."""
    imp = command_group(sub, "import", "import data files (validated as a whole; nothing written on error)")
    for kind, columns in kinds.items():
        parser = imp.add_parser(kind, help=f"{kind} from an XLSX/CSV file: {columns}")
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
        parser.add_argument("--encoding", help="CSV encoding when detection is not enough")
        parser.set_defaults(handler=handler, kind=kind)


def command_group(sub: Any, name: str, help_text: str) -> Any:
    """The sub-parsers of ``shiyu <name> …`` (e.g. ``import``), shared by every domain that adds a kind
    under it: the first caller creates the group, later ones get it back."""
    parser = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, help=help_text)
        parser.set_defaults(kinds=parser.add_subparsers(dest=f"{name}_kind", metavar="KIND", required=True))
    return parser.get_default("kinds")
