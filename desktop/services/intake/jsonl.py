"""Reading records from files. A bad line is a finding on its row, never a traceback; a file
that cannot be read at all is a UsageError naming it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from desktop.domain.findings import Finding
from desktop.domain.forms import FormSpec
from desktop.domain.sources import SourceRow
from desktop.errors import UsageError
from desktop.formspec.jsonschema import FORMAT as OPEN_FORMAT
from desktop.formspec.jsonschema import stored_values

#: a line longer than this is refused (a record is a few kilobytes)
MAX_LINE_BYTES = 1 << 20


def _bad(no: int, code: str, message: str) -> SourceRow:
    return SourceRow(no, None, Finding("", "E", code, message, "value"))


def check_readable(path: Path) -> int:
    """Refuse what cannot be a .jsonl record file; return its size in bytes."""
    if path.suffix.lower() != ".jsonl":
        raise UsageError(f"无法识别的文件类型：{path}。请提供 .jsonl 文件（每行一个 JSON 对象）"
                         f"或 Excel 工作簿（.xlsx）")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except FileNotFoundError:
        raise UsageError(f"找不到文件：{path}") from None
    except IsADirectoryError:
        raise UsageError(f"这是一个文件夹而不是文件：{path}") from None
    except OSError as exc:
        raise UsageError(f"无法读取文件 {path}：{exc.strerror}") from None
    if path.is_dir():
        raise UsageError(f"这是一个文件夹而不是文件：{path}")
    return size


def read_rows(path: Path) -> list[SourceRow]:
    """Rows of a .jsonl file (one JSON object per line; blank lines are skipped)."""
    check_readable(path)
    rows = read_segment(path, Segment(0, None, 1))
    if not rows:
        raise UsageError(f"文件中没有任何记录：{path}")
    return rows


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of whole lines of a file: bytes [start, end) whose first line is number first_no."""

    start: int
    end: int | None
    first_no: int


def split_lines(path: Path, parts: int) -> list[Segment]:
    """Cut a file into about `parts` segments at line ends, counting lines (no JSON parsing)."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as fh:
        for k in range(1, parts):
            fh.seek(max(size * k // parts, cuts[-1]))
            fh.readline()
            pos = fh.tell()
            if pos < size and pos > cuts[-1]:
                cuts.append(pos)
    cuts.append(size)
    segments, line_no = [], 1
    with path.open("rb") as fh:
        for a, b in zip(cuts, cuts[1:], strict=False):
            segments.append(Segment(a, b, line_no))
            fh.seek(a)
            line_no += fh.read(b - a).count(b"\n")
    return segments


def read_segment(path: Path, seg: Segment) -> list[SourceRow]:
    rows: list[SourceRow] = []
    with path.open("rb") as fh:
        fh.seek(seg.start)
        for no, line in enumerate(_lines(fh, seg.end), start=seg.first_no):
            row = parse_line(no, line)
            if row is not None:
                rows.append(row)
    return rows


def parse_line(no: int, line: bytes | None) -> SourceRow | None:
    if line is None:
        return _bad(no, "line_too_long",
                    f"第 {no} 行超过 {MAX_LINE_BYTES // 1024} KB，不像一条记录，已跳过")
    if not line.strip():
        return None
    try:
        text = line.decode("utf-8-sig" if no == 1 else "utf-8")
    except UnicodeDecodeError:
        return _bad(no, "not_utf8", f"第 {no} 行不是 UTF-8 编码的文字，请用 UTF-8 保存文件")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return _bad(no, "json_invalid",
                    f"第 {no} 行不是有效的 JSON（第 {exc.colno} 个字符附近：{exc.msg}）")
    except (RecursionError, ValueError):  # absurd nesting, or a number of thousands of digits
        return _bad(no, "json_invalid", f"第 {no} 行不是有效的记录（嵌套过深或数字过长）")
    if "\\ud" in text.lower() and _has_lone_surrogate(obj):
        return _bad(no, "not_utf8", f"第 {no} 行含有无效的字符编码（孤立的代理字符 \\ud800 一类），请检查来源文件")
    if not isinstance(obj, dict):
        return _bad(no, "json_not_object", f"第 {no} 行应为一个 JSON 对象 {{\"栏目\": \"值\", …}}")
    twice = _key_twice(text, obj)
    if twice is not None:  # json keeps the last silently: which one the sender meant is unknown
        return SourceRow(no, None, Finding(twice, "E", "json_duplicate_key",
                                           f"第 {no} 行两次写了栏目“{twice}”，无法确定以哪个值为准，"
                                           f"请只保留一个", "value"))
    return SourceRow(no, obj)


class _Twice(Exception):
    pass


def _no_twice(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Twice(key)
            seen.add(key)
    return out


def _key_twice(text: str, obj: dict) -> str | None:
    """A key that an object of the line names twice, or None. Cheap for almost every line: the
    colons of the text are at least its keys, so when there are no more colons than keys in
    the parsed objects no key was dropped; only otherwise is the line parsed again, slowly."""
    colons = text.count(":")
    if colons <= len(obj):  # a flat record without a colon in its values: most lines
        return None
    keys, stack = 0, [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys += len(item)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        else:
            stack.extend(v for v in item if isinstance(v, dict | list))
    if colons <= keys:
        return None
    try:
        json.loads(text, object_pairs_hook=_no_twice)
    except _Twice as twice:
        return str(twice.args[0])
    return None


def _has_lone_surrogate(obj) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lines(fh, end: int | None = None):
    """Lines of a binary file up to byte `end`; None in place of an over-long line."""
    while end is None or fh.tell() < end:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the long line
                line = fh.readline(MAX_LINE_BYTES + 1)
            yield None
            continue
        yield line


def open_record(form: FormSpec, no: int, raw: dict) -> tuple[dict, Finding | None]:
    """A line of Dengji's open data (docs/opendata.md: `format`, `form`, …, `data`) is read as
    the record its `data` stands for (codes for {"code", "label"}), so `dengji import` loads an
    open data export as it is; a line of another form is refused with the reason (the finding,
    then the line counts as unreadable). Any other line is returned as it is."""
    if raw.get("format") != OPEN_FORMAT or not isinstance(raw.get("data"), dict):
        return raw, None
    if raw.get("form") != form.id:
        return raw, Finding("", "E", "open_other_form",
                            f"第 {no} 行是表单“{raw.get('form')}”的开放数据，不是{form.display_title}的，"
                            f"请按文件名选择对应的表单导入", "value")
    return stored_values(form, raw["data"]), None
