"""Reading and writing the tables people actually export: CSV (UTF-8 with or without BOM, GB18030/GBK) and
XLSX (first sheet). Cells are kept as text so that a prediction run writes back exactly what it read, and an
import sees an ID number or a phone number as typed (never as a float). Shared by triage's training files and
the bulk imports of people, centres and departments."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from shiyu.core.errors import ShiyuError


class TableError(ShiyuError):
    """A file that cannot be read as a table (format, encoding, missing column): the caller's mistake."""

    status = 422
    code = "table.invalid"
    zh = "表格文件有误"
    en = "The table file is not valid"


SUFFIXES = (".csv", ".xlsx")
DETECTED_ENCODINGS = ("utf-8-sig", "gb18030")
"""GB18030 is a superset of GBK and GB2312, so one attempt covers all three."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]

    def index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise TableError(
                "table.missing_column",
                "文件中没有列“{column}”；现有列：{available}",
                "Column '{column}' is not in the file; available columns: {available}",
                column=name, available=", ".join(self.columns),
            ) from None

    def column(self, name: str) -> list[str]:
        i = self.index(name)
        return [row[i] for row in self.rows]

    def joined(self, names: Sequence[str]) -> list[list[str]]:
        """The cells of several columns, row by row (for documents made of subject + detail…)."""
        indexes = [self.index(n) for n in names]
        return [[row[i] for i in indexes] for row in self.rows]


def split_names(spec: str) -> list[str]:
    """``"留言主题,留言详情"`` → two column names; full-width commas are accepted as people type them."""
    names = [n.strip() for n in spec.replace("，", ",").split(",")]
    if not all(names):
        raise TableError("table.bad_column_list", "列名列表有空项：“{spec}”",
                          "The column list has an empty name: '{spec}'", spec=spec)
    return names


def read_table(path: str | Path, encoding: str | None = None) -> Table:
    path = Path(path)
    _suffix(path)
    if not path.is_file():
        raise TableError("table.file_not_found", "找不到文件：{path}", "File not found: {path}", path=str(path))
    return parse_table(path.read_bytes(), str(path), encoding)


def parse_table(raw: bytes, name: str, encoding: str | None = None) -> Table:
    """A table from the bytes of an uploaded file; ``name`` (the file's name) says the format and names the
    file in errors."""
    if _suffix(Path(name)) == ".xlsx":
        return _read_xlsx(raw, name)
    return _read_csv(raw, name, encoding)


def write_table(path: str | Path, table: Table) -> None:
    """CSV is written as UTF-8 with BOM, which Excel opens correctly for Chinese text."""
    path = Path(path)
    suffix = _suffix(path)
    try:
        if suffix == ".xlsx":
            _write_xlsx(path, table)
        else:
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(table.columns)
                writer.writerows(table.rows)
    except OSError as exc:
        raise TableError("table.unwritable_file", "无法写入文件 {path}：{reason}",
                          "Cannot write {path}: {reason}", path=str(path), reason=exc.strerror) from None


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TableError("table.unsupported_format", "不支持的文件类型“{suffix}”（支持 .csv、.xlsx）：{path}",
                          "Unsupported file type '{suffix}' (use .csv or .xlsx): {path}",
                          suffix=suffix or "(none)", path=str(path))
    return suffix


def _read_csv(raw: bytes, path: str, encoding: str | None) -> Table:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise TableError("table.unknown_encoding", "未知的编码“{encoding}”", "Unknown encoding '{encoding}'",
                              encoding=encoding) from None
    for candidate in [encoding] if encoding else DETECTED_ENCODINGS:
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate.replace("_", "-").lower() in ("utf-8", "utf8"):
            text = text.removeprefix("\ufeff")
        return _parse_csv(text, path)
    raise TableError("table.undecodable_file",
                      "无法识别文件编码（已尝试 {tried}）：{path}；请另存为 UTF-8 或用 --encoding 指定",
                      "Cannot decode {path} (tried {tried}); save it as UTF-8 or pass --encoding",
                      path=str(path), tried=", ".join([encoding] if encoding else DETECTED_ENCODINGS))


def _parse_csv(text: str, path: str) -> Table:
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise TableError("table.bad_csv", "CSV 格式错误（{path}）：{reason}", "Malformed CSV ({path}): {reason}",
                          path=str(path), reason=str(exc)) from None
    return _table(records, path)


def _read_xlsx(raw: bytes, path: str) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for a damaged workbook
        raise TableError("table.bad_xlsx", "无法读取 Excel 文件 {path}：{reason}",
                          "Cannot read workbook {path}: {reason}", path=str(path),
                          reason=str(exc) or type(exc).__name__) from None
    try:
        records = [[_cell_text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    return _table(records, path)


def _table(records: list[list[str]], path: str) -> Table:
    records = [r for r in records if any(cell.strip() for cell in r)]  # blank lines are not messages
    if not records:
        raise TableError("table.empty_file", "文件为空：{path}", "The file is empty: {path}", path=str(path))
    header = [name.strip() for name in records[0]]
    width = len(header)
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if any(cell.strip() for cell in record[width:]):
            raise TableError("table.ragged_row", "第 {row} 行的单元格比表头多（{path}）",
                              "Row {row} has more cells than the header ({path})", row=number, path=str(path))
        rows.append((record + [""] * (width - len(record)))[:width])
    return Table(header, rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_xlsx(path: Path | io.BytesIO, table: Table) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append(row)
    book.save(path)


def xlsx_bytes(table: Table) -> bytes:
    """The table as an XLSX file's bytes, for a download."""
    out = io.BytesIO()
    _write_xlsx(out, table)
    return out.getvalue()
