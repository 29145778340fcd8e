"""People files for the bulk-import tests, the journey and the bench: valid ID numbers and phones made
from a sequence number, written as XLSX or CSV."""

from __future__ import annotations

from pathlib import Path

from shiyu.core.tabular import Table, write_table
from shiyu.core.validators import id_check_digit

HEADER = ["姓名", "手机", "身份证号", "角色", "区域编码"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def id_number(n: int) -> str:
    """A valid 18-digit ID number (GB 11643), distinct for each ``n`` below 10⁶ (birth dates vary too)."""
    first17 = f"350203{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    first17 = f"35{(n // 1000) % 10000:04d}{first17[6:]}"
    return first17 + id_check_digit(first17)


def phone(n: int) -> str:
    return f"139{n:08d}"


def name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + GIVEN[n % 7]


def people(count: int, area_codes: list[str], role: str = "网格员", start: int = 0) -> list[list[str]]:
    return [[name(n), phone(n), id_number(n), role, area_codes[n % len(area_codes)]]
            for n in range(start, start + count)]


def write_people(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    write_table(path, Table(header, rows))
    return path
