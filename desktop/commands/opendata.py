"""export-open, schema: the open data for the national lawyer management system (docs/opendata.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from desktop.commands.common import (
    FormChoices,
    escape_controls,
    open_db,
    progress_printer,
    shipped,
)


def register(sub) -> None:
    s = sub.add_parser("export-open",
                       help="导出开放数据（供全国律师综合管理系统对接）：已接收的记录按表单写成 JSON Lines，"
                            "附 JSON Schema、数据字典和清单（完整号码，记入操作日志）")
    s.add_argument("--db", type=Path, required=True, help="登记库文件路径")
    s.add_argument("--out", type=Path, required=True, help="导出到的文件夹（新的或空的文件夹）")
    s.set_defaults(func=cmd_export_open)

    s = sub.add_parser("schema", help="输出一个表单当前版本的 JSON Schema（draft 2020-12，UTF-8）")
    s.add_argument("--form", required=True, choices=FormChoices(), metavar="FORM",
                   help="表单：%(choices)s")
    s.set_defaults(func=cmd_schema)


def cmd_export_open(args) -> int:
    from desktop.progress import run
    from desktop.services.opendata import check_folder, export_open

    check_folder(args.out.absolute())  # before the passphrase is asked for
    forms = shipped()
    with open_db(args.db) as reg:
        result = run(export_open(reg, forms, args.out), progress_printer())
    each = "，".join(f"{forms.form(fid).display_title} {n} 条" for fid, n in result.counts.items())
    print(f"已导出开放数据：{result.records} 条记录（{each}）→ {result.folder}。"
          f"数据为完整号码，已记入操作日志，请妥善保管；核对文件用 manifest.json 中的 SHA-256。",
          file=sys.stderr)
    return 0


def cmd_schema(args) -> int:
    from desktop.formspec.jsonschema import form_schema

    schema = form_schema(shipped().form(args.form))
    # as the guard of every command's output would write it (controls as JSON escapes), but as
    # UTF-8 bytes whatever the console's or the pipe's code page
    text = escape_controls(json.dumps(schema, ensure_ascii=False, indent=1) + "\n", keep="\n")
    raw = getattr(sys.stdout, "raw", sys.stdout)
    buffer = getattr(raw, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return 0
    raw.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()
    return 0
