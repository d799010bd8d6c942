"""Generate forms/codes/mobile_segments.toml and forms/codes/phone_areas.toml from libphonenumber.

Usage (from the repository root, with the PyPI package `phonenumbers` installed; it is a tool
of this script only, not a dependency of the application):

    .venv/bin/python tools/make_phone_codes.py [--taken YYYY-MM-DD] [output folder]

The public source is Google's libphonenumber metadata for China (+86), as the `phonenumbers`
package ships it: the mobile number pattern and the carrier prefixes (PhoneNumberMetadata.xml,
carrier/zh/86.txt) and the geocoding prefixes and fixed-line pattern (geocoding/zh/86.txt). It
follows the allocations of the 工业和信息化部 号段 and is updated several times a year, so the
table records the package version and the date it was taken.

* mobile_segments: every 5-digit prefix 13000–19999 whose 11-digit numbers libphonenumber calls
  mobile, with its operator; ten sibling prefixes of one operator are merged into their parent
  (so most rows are 3-digit segments, 170x and 1740x stay longer). The mobile virtual network
  operator (移动转售) segments named by 工业和信息化部 (VIRTUAL below) are labelled as such.
* phone_areas: every 长途区号 (010 and 02x, or 0 + 3 digits from 300 to 999) for which the
  fixed-line pattern accepts local numbers (7 or 8 digits, first digit 2–8), named by the
  geocoder; `group` holds the accepted lengths ("7", "8" or "7,8").

The output is deterministic for one package version and one --taken date.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import phonenumbers
from codetable_toml import entry, q, split_taken
from phonenumbers import PhoneNumberType, carrier, geocoder

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "forms" / "codes"
#: 移动通信转售业务 (virtual operators) segments, 工业和信息化部: 170/171 (2013–), 162/165/167 (2017)
VIRTUAL = ("162", "165", "167", "170", "171")
#: operators the carrier data leaves unnamed: the host networks of the 2017 转售 segments
#: (工业和信息化部: 162 电信, 165 移动, 167 联通) and 1349, 中国卫通's satellite segment
UNNAMED = {"162": "中国电信", "165": "中国移动", "167": "中国联通", "1349": "中国卫通"}
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_FIXED_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _cn(national: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.parse("+86" + national)


def mobile_operator(prefix5: str) -> str | None:
    """The operator of the 11-digit numbers starting with `prefix5`, None when not mobile."""
    samples = [_cn(prefix5 + tail) for tail in ("000000", "123456", "987654")]
    if not all(phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) in _MOBILE_TYPES
               for n in samples):
        return None
    names = {carrier.name_for_number(n, "zh") for n in samples}
    name = names.pop() if len(names) == 1 else ""
    return name or UNNAMED.get(prefix5[:4]) or UNNAMED.get(prefix5[:3]) or "未知运营商"


def merge(segments: dict[str, str]) -> dict[str, str]:
    """Replace ten sibling prefixes of one operator by their parent, repeatedly."""
    changed = True
    while changed:
        changed = False
        parents: dict[str, list[str]] = {}
        for prefix in segments:
            if len(prefix) > 3:
                parents.setdefault(prefix[:-1], []).append(prefix)
        for parent, children in sorted(parents.items()):
            ops = {segments[c] for c in children}
            if len(children) == 10 and len(ops) == 1:
                for c in children:
                    del segments[c]
                segments[parent] = ops.pop()
                changed = True
    return dict(sorted(segments.items()))


def build_segments() -> dict[str, str]:
    found = {}
    for n in range(13000, 20000):
        op = mobile_operator(str(n))
        if op is not None:
            found[str(n)] = op
    return merge(found)


def local_lengths(national_area: str) -> list[int]:
    """Lengths of local numbers (first digit 2–8) the fixed-line pattern accepts."""
    lengths = []
    for length in (7, 8):
        for first in "2345678":
            n = _cn(national_area + first + "123456789"[: length - 1])
            if phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) in _FIXED_TYPES:
                lengths.append(length)
                break
    return lengths


def build_areas() -> dict[str, tuple[str, list[int]]]:
    """Area codes are 0 + 10 or 2x (3 digits) or 0 + 3 digits starting 3–9 (4 digits): every
    candidate whose local numbers the fixed-line pattern accepts, named by the geocoder."""
    areas = {}
    candidates = ["10", *map(str, range(20, 30)), *map(str, range(300, 1000))]
    for national in candidates:
        lengths = local_lengths(national)
        if lengths:
            sample = _cn(national + "2" + "123456789"[: lengths[0] - 1])
            name = geocoder.description_for_number(sample, "zh") or "（未命名）"
            areas["0" + national] = (name, lengths)
    return dict(sorted(areas.items()))


def head(table_id: str, label: str, source: str, taken: str, note: list[str]) -> list[str]:
    lines = ["# GENERATED FILE - do not edit by hand: tools/make_phone_codes.py"]
    lines += [f"# {line}" for line in note]
    lines += ["", "[table]", f"id = {q(table_id)}", f"label = {q(label)}",
              f"source = {q(source)}", f"taken = {q(taken)}", ""]
    return lines


def render_segments(segments: dict[str, str], taken: str, pkg: str) -> str:
    lines = head(
        "mobile_segments", "手机号段",
        f"工业和信息化部号段分配，取自 Google libphonenumber 元数据（PyPI phonenumbers {pkg}）",
        taken,
        ["code: the leading digits of an allocated 11-digit mobile number; group: its operator.",
         "A number is matched by its longest code; a number that matches none is in an",
         f"unallocated segment. {len(segments)} segments."])
    for prefix, op in segments.items():
        kind = f"虚拟运营商，{op}" if prefix[:3] in VIRTUAL else op
        lines += entry(prefix, f"{prefix}（{kind}）", op)
    return "\n".join(lines)


def render_areas(areas: dict[str, tuple[str, list[int]]], taken: str, pkg: str) -> str:
    lines = head(
        "phone_areas", "长途区号",
        f"固定电话长途区号，取自 Google libphonenumber 元数据（PyPI phonenumbers {pkg}）",
        taken,
        ["code: the 长途区号 with its leading 0; group: the lengths a local number may have",
         f"there (its first digit is 2–8). {len(areas)} area codes."])
    for area, (name, lengths) in areas.items():
        lines += entry(area, f"{area} {name}", ",".join(map(str, lengths)))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    taken, args = split_taken(argv[1:])
    out = Path(args[0]) if args else DEFAULT_OUT
    pkg = version("phonenumbers")
    segments, areas = build_segments(), build_areas()
    out.mkdir(parents=True, exist_ok=True)
    (out / "mobile_segments.toml").write_bytes(render_segments(segments, taken, pkg).encode())
    (out / "phone_areas.toml").write_bytes(render_areas(areas, taken, pkg).encode())
    print(f"wrote {out}: {len(segments)} mobile segments, {len(areas)} area codes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
