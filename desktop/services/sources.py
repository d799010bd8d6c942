"""Reading records from files. A bad line is a finding on its row, never a traceback; a file
that cannot be read at all is a UsageError naming it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.domain.findings import Finding
from desktop.errors import UsageError

#: a line longer than this is refused (a record is a few kilobytes)
MAX_LINE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class SourceRow:
    no: int  # 1-based line or row number
    raw: dict[str, Any] | None  # None when the line could not be read
    problem: Finding | None = None


def _bad(no: int, code: str, message: str) -> SourceRow:
    return SourceRow(no, None, Finding("", "E", code, message, "value"))


def read_rows(path: Path) -> list[SourceRow]:
    """Rows of a .jsonl file (one JSON object per line; blank lines are skipped)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        raise UsageError(f"暂不支持读取 Excel 文件：{path}。请先另存为 .jsonl（Excel 导入将在后续版本提供）")
    if suffix != ".jsonl":
        raise UsageError(f"无法识别的文件类型：{path}。请提供 .jsonl 文件（每行一个 JSON 对象）")
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"找不到文件：{path}") from None
    except IsADirectoryError:
        raise UsageError(f"这是一个文件夹而不是文件：{path}") from None
    except OSError as exc:
        raise UsageError(f"无法读取文件 {path}：{exc.strerror}") from None
    rows: list[SourceRow] = []
    with fh:
        for no, line in enumerate(_lines(fh), start=1):
            if line is None:
                rows.append(_bad(no, "line_too_long",
                                 f"第 {no} 行超过 {MAX_LINE_BYTES // 1024} KB，不像一条记录，已跳过"))
                continue
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8-sig" if no == 1 else "utf-8")
            except UnicodeDecodeError:
                rows.append(_bad(no, "not_utf8", f"第 {no} 行不是 UTF-8 编码的文字，请用 UTF-8 保存文件"))
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                rows.append(_bad(no, "json_invalid",
                                 f"第 {no} 行不是有效的 JSON（第 {exc.colno} 个字符附近：{exc.msg}）"))
                continue
            if not isinstance(obj, dict):
                rows.append(_bad(no, "json_not_object",
                                 f"第 {no} 行应为一个 JSON 对象 {{\"栏目\": \"值\", …}}"))
                continue
            rows.append(SourceRow(no, obj))
    if not rows:
        raise UsageError(f"文件中没有任何记录：{path}")
    return rows


def _lines(fh):
    """Lines of a binary file; None in place of a line longer than MAX_LINE_BYTES."""
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the long line
                line = fh.readline(MAX_LINE_BYTES + 1)
            yield None
            continue
        yield line
