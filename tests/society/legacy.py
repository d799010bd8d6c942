"""A realistic legacy member register, as the old 会员管理信息系统 exports it (for tests and
bench/bench_society.py). Deterministic for a seed.

What makes it realistic: people entered twice or three times under new member numbers (or the
same one), a copy carrying the old 15-digit ID number, copies and whole entries without an ID
number, copies that share only (姓名, 出生日期), (姓名, 工作单位) or (姓名, 手机) with the person's
other entry, employer names spelt with spaces and brackets, members with no contact or no
fulfilled duty for years, numbers of several issuing societies. `truth` says what was planted.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from stdnum.cn import ric

from desktop.sampledata import GIVEN, SURNAMES

AREAS = ("210102 210103 210105 210202 210203 210302 210402 210502 210602 210702 210802 210902 "
         "211002 211102 211202 211302 211402").split()
SOCIETIES = (("024", "辽宁省法学会", 8), ("0024", "沈阳市法学会", 30), ("0411", "大连市法学会", 20),
             ("0412", "鞍山市法学会", 8), ("024-01", "沈阳市和平区法学会", 6),
             ("0411-01", "大连市中山区法学会", 5), ("0416", "锦州市法学会", 6),
             ("0417", "营口市法学会", 5))
EMPLOYERS = ("辽宁大学法学院", "东北财经大学法学院", "沈阳市中级人民法院", "大连市中级人民法院",
             "沈阳市人民检察院", "大连市人民检察院", "辽宁省司法厅", "沈阳市司法局", "鞍山市公安局",
             "辽宁省高级人民法院", "沈阳师范大学法学院", "大连海事大学法学院", "辽宁大成律师事务所",
             "辽宁华夏律师事务所", "大连中和律师事务所", "锦州市太和区人民法院", "营口市仲裁委员会",
             "沈阳市和平区人民法院", "沈阳市沈河区司法局", "辽宁省人民检察院")
TITLES = ("教授", "副教授", "讲师", "一级法官", "二级法官", "一级检察官", "一级律师", "二级律师", "")
POSTS = ("院长", "副院长", "庭长", "处长", "科长", "主任", "", "", "")
POLITICAL = ("中国共产党党员", "中国共产党党员", "中国共产党党员", "群众", "九三学社社员",
             "中国民主同盟盟员", "无党派民主人士")
EDUCATION = (("大学本科毕业", "法学学士学位"), ("硕士研究生毕业", "法学硕士学位"),
             ("博士研究生毕业", "法学博士学位"), ("大学本科毕业", "法学学士学位"),
             ("大学专科毕业", ""))
SPAN = 365 * 45  # birth dates 1950-01-01 … 1994-12-xx; coprime with 7919
HEADER_VARIANTS = {"会员证号": "会员编号", "公民身份号码": "身份证号", "批准入会日期": "入会时间",
                   "工作单位": "所在单位", "手机": "手机号码", "出生日期": "出生年月"}


@dataclass
class Truth:
    persons: int = 0
    extra_same_id: int = 0  # copies with the person's ID number (k−1 summed)
    extra_without_id: int = 0  # copies without an ID number (candidates)
    without_id: int = 0  # entries without an ID number (copies included)
    id15: int = 0
    by_key: Counter = field(default_factory=Counter)  # candidate copies by the key they share


def resident_id(k: int, male: bool) -> tuple[str, date]:
    """The k-th ID number of a bijective enumeration (unique without remembering any)."""
    area = AREAS[k % len(AREAS)]
    rest = k // len(AREAS)
    birth = date(1950, 1, 1) + timedelta(days=(rest * 7919) % SPAN)
    seq = (rest // SPAN) % 500 * 2 + (1 if male else 0)
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0"), birth


def to15(number: str) -> str:
    return number[:6] + number[8:17]


class _Numbers:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next: Counter = Counter()
        self.weights = [w for _, _, w in SOCIETIES]

    def issue(self) -> tuple[str, str]:
        prefix, name, _ = self.rng.choices(SOCIETIES, self.weights)[0]
        self.next[prefix] += 1
        return f"{prefix}-{self.next[prefix]:06d}", name


def legacy_rows(n: int, *, seed: int = 7, today: date | None = None, start: int = 0
                ) -> tuple[list[dict], Truth]:
    """`n` entries keyed by the form's labels, and what was planted among them."""
    today = today or date.today()
    rng = random.Random(seed)
    numbers = _Numbers(rng)
    truth = Truth()
    rows: list[dict] = []
    k = start
    while len(rows) < n:
        k += 1
        person, number_id = _person(rng, k, numbers, today)
        truth.persons += 1
        roll = rng.random()
        if roll < 0.06:  # the only entry has no ID number
            person["公民身份号码"] = ""
            truth.without_id += 1
            rows.append(person)
            continue
        rows.append(person)
        copies = 2 if roll < 0.067 else 1 if roll < 0.107 else 0
        for _ in range(copies):
            if len(rows) >= n:
                break
            rows.append(_copy(rng, person, numbers, truth))
            truth.extra_same_id += 1
        if 0.107 <= roll < 0.127 and len(rows) < n:
            rows.append(_blank_copy(rng, person, numbers, truth))
    return rows, truth


def _person(rng: random.Random, k: int, numbers: _Numbers, today: date) -> tuple[dict, str]:
    male = rng.random() < 0.62
    number, birth = resident_id(k, male)
    member_no, issuer = numbers.issue()
    education, degree = rng.choice(EDUCATION)
    approved = date(max(birth.year + 25, 1995), 1, 1) + timedelta(days=rng.randrange(0, 3650))
    approved = min(approved, today - timedelta(days=400))
    row = {
        "会员证号": member_no, "发证法学会": issuer,
        "姓名": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
        "性别": "男" if male else "女", "出生日期": birth.isoformat(),
        "民族": "汉族" if rng.random() < 0.85 else rng.choice(("满族", "蒙古族", "回族", "朝鲜族", "锡伯族")),
        "公民身份号码": number, "政治面貌": rng.choice(POLITICAL), "学历": education,
        "学位": degree, "所学专业是否法学": "是", "工作单位": rng.choice(EMPLOYERS),
        "行政职务": rng.choice(POSTS), "专业技术职称": rng.choice(TITLES),
        "手机": f"1{rng.choice('3589')}{rng.randrange(0, 10**9):09d}",
        "通讯地址": f"辽宁省{rng.choice(('沈阳市和平区', '大连市中山区', '鞍山市铁东区'))}"
                    f"{rng.choice(('中山', '民主', '和平', '人民'))}路{rng.randrange(1, 400)}号",
        "批准入会日期": approved.isoformat(),
    }
    if not degree:
        del row["学位"]
    for key, chance_old in (("最近联系日期", 0.09), ("最近履行会员义务日期", 0.07)):
        roll = rng.random()
        if roll < 0.12:
            continue  # never recorded
        days = rng.randrange(3 * 365 + 30, 9 * 365) if roll < 0.12 + chance_old else \
            rng.randrange(10, 2 * 365)
        row[key] = max(approved, today - timedelta(days=days)).isoformat()
    return row, number


def _copy(rng: random.Random, person: dict, numbers: _Numbers, truth: Truth) -> dict:
    """The same person entered again: a new number (or the same), fewer fields, maybe the old
    15-digit ID number, the employer spelt differently."""
    copy = dict(person)
    if rng.random() < 0.7:
        copy["会员证号"], copy["发证法学会"] = numbers.issue()
    for key in ("行政职务", "专业技术职称", "通讯地址", "学位", "最近联系日期"):
        if rng.random() < 0.5:
            copy.pop(key, None)
    if rng.random() < 0.3 and person["出生日期"] < "2000":
        copy["公民身份号码"] = to15(person["公民身份号码"])
        truth.id15 += 1
    if rng.random() < 0.3:
        copy["工作单位"] = person["工作单位"].replace("法学院", " 法学院").replace("人民", "人民 ")
    return copy


def _blank_copy(rng: random.Random, person: dict, numbers: _Numbers, truth: Truth) -> dict:
    """A copy without the ID number that shares the name and one other key with the person."""
    copy = {k: v for k, v in person.items() if k not in ("公民身份号码", "性别")}
    copy["会员证号"], copy["发证法学会"] = numbers.issue()
    key = rng.choices(("出生日期", "工作单位", "手机"), (5, 3, 2))[0]
    for other in ("出生日期", "工作单位", "手机"):
        if other != key:
            copy.pop(other, None)
    truth.extra_without_id += 1
    truth.without_id += 1
    truth.by_key[key] += 1
    return copy


def with_header_variants(rows: list[dict]) -> list[dict]:
    """The same rows under the header variants an old export uses (身份证号, 会员编号, …)."""
    return [{HEADER_VARIANTS.get(k, k): v for k, v in row.items()} for row in rows]


def write_legacy_workbook(path, rows: list[dict], *, seed: int = 1) -> None:
    """The rows as the old system's Excel export: a title line, columns in another order,
    header variants (身份证号, 会员编号, 入会时间, …), ID numbers typed as numbers where they
    are all digits (Excel shows them rounded unless stored as text: the export stored the
    18-digit ones as text and the 15-digit ones as numbers), dates as real dates."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    labels = list(dict.fromkeys(k for row in rows for k in row))
    rng.shuffle(labels)
    wb = Workbook(write_only=True)  # a 300,000-row export in a minute, not an hour
    ws = wb.create_sheet("会员信息")
    ws.append(["辽宁省法学会会员管理信息系统 会员信息导出"])
    ws.append([HEADER_VARIANTS.get(label, label) for label in labels])
    for row in rows:
        out = []
        for label in labels:
            value = row.get(label)
            if label == "公民身份号码" and value and len(value) == 15:
                value = int(value)
            elif label.endswith("日期") and value:
                value = date.fromisoformat(value)
            out.append(value)
        ws.append(out)
    wb.save(path)
