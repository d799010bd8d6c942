"""Generate forms/codes/countries.toml (GB/T 2659 世界各国和地区名称代码, numeric codes).

Usage (from the repository root):

    .venv/bin/python tools/make_countries.py [--taken YYYY-MM-DD] [iso-codes folder] [output.toml]

GB/T 2659 takes its codes from ISO 3166-1; the public machine-readable copy used here is the
Debian/freedesktop `iso-codes` package (`apt-get install iso-codes`): the codes from
json/iso_3166-1.json and the Chinese names from the zh_CN gettext catalogue iso_3166-1.mo.
The 3-digit numeric code is the nationality code of the 2023 外国人永久居留身份证 number
(digits 4–6); `group` holds the alpha-3 code that the 2017 card's number carried.
"""

from __future__ import annotations

import gettext
import json
import sys
from pathlib import Path

from codetable_toml import entry, q, split_taken

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "forms" / "codes" / "countries.toml"
DEFAULT_ISO = Path("/usr/share/iso-codes/json")
LOCALE = Path("/usr/share/locale")
#: GB/T 2659 covers the whole world; China (156) and its 台湾 (158), 香港 (344) and 澳门 (446)
#: are no foreigner's nationality
LEAVE_OUT = {"156", "158", "344", "446"}


def build(iso_dir: Path) -> list[tuple[str, str, str]]:
    data = json.loads((iso_dir / "iso_3166-1.json").read_text(encoding="utf-8"))["3166-1"]
    zh = gettext.translation("iso_3166-1", LOCALE, languages=["zh_CN"])
    rows = []
    for country in data:
        if country["numeric"] in LEAVE_OUT:
            continue
        rows.append((country["numeric"], zh.gettext(country["name"]), country["alpha_3"]))
    return sorted(rows)


def render(rows: list[tuple[str, str, str]], taken: str, version: str) -> str:
    lines = [
        "# GENERATED FILE - do not edit by hand: tools/make_countries.py",
        "# code: GB/T 2659 (ISO 3166-1) numeric code; group: the alpha-3 code.",
        f"# {len(rows)} countries and areas (China and its 台湾, 香港, 澳门 left out).",
        "",
        "[table]",
        'id = "countries"',
        'label = "国籍"',
        "source = " + q(f"GB/T 2659《世界各国和地区名称代码》数字代码，取自 iso-codes {version}"
                        "（ISO 3166-1 及其中文译名）"),
        f"taken = {q(taken)}",
        "",
    ]
    labels: dict[str, int] = {}
    for _code, name, _a3 in rows:
        labels[name] = labels.get(name, 0) + 1
    for code, name, alpha3 in rows:
        label = name if labels[name] == 1 else f"{name}（{alpha3}）"
        lines += entry(code, label, alpha3)
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    taken, args = split_taken(argv[1:])
    iso_dir = Path(args[0]) if args else DEFAULT_ISO
    out = Path(args[1]) if len(args) > 1 else DEFAULT_OUT
    version = "（版本未知）"
    changelog = Path("/usr/share/doc/iso-codes/changelog.Debian.gz")
    if changelog.exists():
        import gzip

        version = gzip.open(changelog, "rt").readline().split("(")[1].split(")")[0]
    rows = build(iso_dir)
    out.write_bytes(render(rows, taken, version).encode())
    print(f"wrote {out}: {len(rows)} countries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
