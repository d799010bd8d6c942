"""A small 沈阳市法学会 register for the 清理 window tests: a person entered twice with the same
ID number, a candidate pair without an ID (same 姓名 and 出生日期), members without an ID
number, long-silent members and one malformed legacy member number."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from stdnum.cn import ric

from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services.intake.importing import import_file
from desktop.services.registers import init_register
from desktop.storage import KdfParams, Register

SOCIETY = "沈阳市法学会"
FAST_KDF = KdfParams(n=2**10, r=8, p=1)


def ident(birth: str, seq: int = 11, area: str = "210102") -> str:
    body = f"{area}{birth.replace('-', '')}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def ago(years: float) -> str:
    return (date.today() - timedelta(days=int(years * 365.25) + 2)).isoformat()


def row(no: str, name: str, *, idn: str = "", birth: str = "", contact: float = 1,
        **more) -> dict:
    out = {"会员证号": no, "发证法学会": SOCIETY, "姓名": name, "工作单位": "辽宁大学法学院",
           "批准入会日期": "2010-05-01", "最近联系日期": ago(contact)}
    if idn:
        out["公民身份号码"] = idn
        out["出生日期"] = f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}"
        out["性别"] = "男" if int(idn[16]) % 2 else "女"
    elif birth:
        out["出生日期"] = birth
    out.update(more)
    return out


#: 会员证号 -> what the entry is
ROWS = [
    row("0024-000001", "王建国", idn=ident("1970-03-05"), 手机="13900000001", 通讯地址="沈阳市和平区"),
    row("0024-000002", "王建国", idn=ident("1970-03-05")),  # same person, less complete
    row("0024-000003", "李红", birth="1980-01-02", 手机="13900000003"),  # no ID
    row("0024-000004", "李红", birth="1980-01-02"),  # candidate copy of 0024-000003, no ID
    row("0024-000005", "赵敏", birth="1975-06-06"),  # no ID, alone
    row("0024-000006", "孙立", idn=ident("1965-02-02", 13), contact=5),  # silent 5 years
    row("0024-000007", "周强", idn=ident("1968-08-08", 15), contact=4),  # silent 4 years
    row("0024-000008", "吴刚", idn=ident("1972-09-09", 17)),  # to be revoked
    row("0024-000009", "郑洁", idn=ident("1985-10-10", 22)),
    row("24-12", "钱旧号", idn=ident("1960-12-12", 19)),  # malformed legacy number
]


def society_register(tmp_path: Path, secret: str, rows: list[dict] | None = None, *,
                     kdf: KdfParams = FAST_KDF) -> Register:
    """A new society-city register with the rows imported as the legacy import does (the
    command line opens it only with `kdf=DEFAULT_KDF`)."""
    reg = init_register(tmp_path / "society.dengji", secret, level="society-city",
                        unit_name=SOCIETY, unit_code="SYFXH-0024", kdf=kdf)
    forms = shipped_forms()
    path = tmp_path / "legacy.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (rows or ROWS)),
                    encoding="utf-8")
    result = run(import_file(reg, forms, forms.form("society_member"), path))
    assert result.refused == 0, [r.findings for r in result.refused_rows]
    return reg


def statuses(reg: Register) -> dict[str, list[str]]:
    """会员证号 -> the statuses of its entries (in record id order)."""
    out: dict[str, list[str]] = {}
    with reg.engine.connect() as conn:
        for no, status in conn.exec_driver_sql(
                "SELECT json_extract(data, '$.member_no'), "
                "coalesce(json_extract(data, '$.status'), '1') FROM record "
                "WHERE form_id = 'society_member' ORDER BY id"):
            out.setdefault(no, []).append(status)
    return out


def values_of(reg: Register, member_no: str) -> list[dict]:
    with reg.engine.connect() as conn:
        return [json.loads(d) for (d,) in conn.exec_driver_sql(
            "SELECT data FROM record WHERE form_id = 'society_member' AND "
            "json_extract(data, '$.member_no') = ? ORDER BY id", (member_no,))]


def audit(reg: Register) -> list[tuple[str, str, dict]]:
    with reg.engine.connect() as conn:
        return [(a, b, json.loads(c)) for a, b, c in conn.exec_driver_sql(
            "SELECT actor, action, detail FROM audit_entry ORDER BY seq")]
