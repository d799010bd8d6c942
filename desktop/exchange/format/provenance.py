"""Provenance: who may speak for which unit, at every depth of a package.

The rule (docs/architecture.md, "Provenance"):

- A unit's records and its details (name, level, parent) come only from a package signed by
  that unit's own key as the receiving level knows it: trusted directly (a key in
  `RegisterView.trusted`), or vouched for by a package that is itself trusted or vouched for,
  whose signed inner list names the key. When the receiving level trusts keys of that unit
  directly, a vouched package must be signed by one of them.
- A package carries only packages of units of a lower level of its own family (firm < city <
  province < national; society-county < society-city < society-province), each addressed to it
  (recipient code and key). The lowest level carries none.
- A package's own records are its sender's; a record of another unit must name the inner
  package it came in, and its digest must be one that unit itself signed (in that package, or
  in a package it carries). A package's unit list names only its sender and units whose own
  packages it carries.
- Nothing but a unit's own signed manifest describes that unit: the details other packages
  list are never applied (exchange/merge.py records a changed name or level of a known unit as
  a change for the clerk to confirm).

`refusal` is the one decision about what a package may not do to this register (name the own
unit, reuse a record id another unit or package holds): `verify_package` with a register view
and `merge.apply_package` both call it, so verify and merge cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from desktop.domain.levels import LEVEL_NAMES
from desktop.exchange.format.manifest import PARENT_LEVEL, Manifest, UnitRef
from desktop.exchange.format.rotation import (
    NONE,
    Retired,
    Revocation,
    Rotation,
    Statements,
    former_keys,
    retirement_problem,
    standing,
)


def unit_text(unit: UnitRef) -> str:
    """“name（level, 代码 code）” for a message."""
    return f"{unit.name}（{LEVEL_NAMES.get(unit.level, unit.level)}，代码 {unit.code}）"


def below(lower: str, upper: str) -> bool:
    """Whether level `lower` reports, directly or through others, to level `upper`."""
    level = PARENT_LEVEL.get(lower)
    while level is not None:
        if level == upper:
            return True
        level = PARENT_LEVEL.get(level)
    return False


def carries_nothing(level: str) -> bool:
    """Whether no level reports to `level` (a firm, a county's society)."""
    return level not in PARENT_LEVEL.values()


@dataclass(frozen=True)
class Speaker:
    """One signed package of a package's tree: the unit it speaks for, as it signed it."""

    unit: UnitRef
    sequence: int
    fingerprint: str
    #: digests of the records it signed as its own (not those of the packages it carries)
    digests: frozenset[str]
    carrier: UnitRef | None  # the unit whose package carried it (None: the package itself)
    #: only named in a carrier's signed inner list (its own manifest could not be read here):
    #: its details are the carrier's description, never applied to a unit already known
    vouched: bool = False
    #: when its package was made (None: only vouched for, its manifest not read here)
    created: datetime | None = None
    #: the key statements its signed manifest carries (rotation.py)
    statements: Statements = NONE


def _created(manifest: Manifest) -> datetime:
    return datetime.fromisoformat(manifest.created)


def listed_speakers(manifest: Manifest, statements: Statements = NONE) -> list[Speaker]:
    """The package itself and the packages its signed inner list names, as far as its own
    manifest tells: for a package whose contents this level cannot open (a version 2 package
    carried two levels down), the carrier vouches for the units it lists, and the records it
    signed stand in for theirs."""
    out = [Speaker(manifest.sender, manifest.sequence, manifest.signer_fingerprint,
                   manifest.record_digests, None, created=_created(manifest),
                   statements=statements)]
    listed = {u.code: u for u in manifest.units}
    for ref in manifest.inner:
        unit = listed.get(ref.sender_code)
        if unit is None or unit.code == manifest.sender.code:
            continue  # a unit it does not describe: nothing of it can be merged
        out.append(Speaker(unit, 0, ref.fingerprint, manifest.record_digests, manifest.sender,
                           vouched=True))
    return out


def speakers_of(manifest: Manifest, children: Iterable[tuple[Manifest, list[Speaker]]],
                statements: Statements = NONE) -> list[Speaker]:
    """The package itself and every package it carries, at every depth (`children`: each inner
    package's manifest and its own speakers, as verified)."""
    children = list(children)
    forwarded: set[str] = set()
    for m, _ in children:
        forwarded |= m.record_digests
    own = Speaker(manifest.sender, manifest.sequence, manifest.signer_fingerprint,
                  manifest.record_digests - forwarded if forwarded else manifest.record_digests,
                  None, created=_created(manifest), statements=statements)
    out = [own]
    for _, below_it in children:
        for s in below_it:
            out.append(s if s.carrier is not None else replace(s, carrier=manifest.sender))
    return out


def signed_digests(speakers: Iterable[Speaker]) -> dict[str, frozenset[str]]:
    """unit code -> digests of the records that unit itself signed, over `speakers`."""
    out: dict[str, frozenset[str]] = {}
    for s in speakers:
        known = out.get(s.unit.code)
        out[s.unit.code] = s.digests if known is None else known | s.digests
    return out


def unit_details(speakers: Iterable[Speaker]) -> dict[str, Detail]:
    """unit code -> the unit as its own newest signed package in the tree describes it (or,
    when none could be read here, as the package carrying it does)."""
    best: dict[str, Speaker] = {}
    for s in speakers:
        known = best.get(s.unit.code)
        if known is None or (not s.vouched, s.sequence) > (not known.vouched, known.sequence):
            best[s.unit.code] = s
    return {code: Detail(s.unit, not s.vouched) for code, s in best.items()}


@dataclass(frozen=True)
class Detail:
    """What a package says of one unit it speaks for, and whether the unit signed it itself
    (only then may it change what the register knows of the unit, and only when confirmed)."""

    unit: UnitRef
    own: bool


def listed_problem(manifest: Manifest) -> str | None:
    """Why the package's own signed inner list is wrong whatever the packages are (checked
    even where they cannot be opened): the lowest level carries none, and a unit the package
    describes is of a lower level."""
    if not manifest.inner:
        return None
    who = unit_text(manifest.sender)
    listed = {u.code: u for u in manifest.units}
    if carries_nothing(manifest.sender.level):
        ref = manifest.inner[0]
        what = unit_text(listed[ref.sender_code]) if ref.sender_code in listed else \
            f"代码 {ref.sender_code} 的单位"
        return (f"{who} 的数据包内含声称来自 {what} 的数据包："
                f"{LEVEL_NAMES.get(manifest.sender.level, manifest.sender.level)}只能报送本单位的"
                "记录，不能转报其他单位的数据包")
    for ref in manifest.inner:
        unit = listed.get(ref.sender_code)
        if ref.sender_code == manifest.sender.code or (
                unit is not None and not below(unit.level, manifest.sender.level)):
            what = unit_text(unit) if unit is not None else f"代码 {ref.sender_code} 的单位"
            return f"{who} 的数据包内含 {what} 的数据包：只能转报下级单位的数据包"
    return None


def carry_problem(outer: Manifest, inner: Manifest, statements: Statements = NONE
                  ) -> str | None:
    """Why `outer` may not carry `inner` (already checked to be signed as its list says). A
    package addressed to a key the outer sender has since rotated away from (its own
    `statements` lead from it to the signer) was addressed to it."""
    if not below(inner.sender.level, outer.sender.level):
        return (f"{unit_text(outer.sender)} 的数据包内含 {unit_text(inner.sender)} 的数据包："
                "只能转报下级单位的数据包")
    if (inner.recipient.code != outer.sender.code
            or (inner.recipient_fingerprint != outer.signer_fingerprint
                and inner.recipient_fingerprint not in former_keys(
                    outer.signer_fingerprint, statements.rotations))):
        return (f"{unit_text(outer.sender)} 的数据包内含 {unit_text(inner.sender)} 的数据包，"
                f"但该数据包不是发给 {outer.sender.name} 的（是发给 {inner.recipient.name}，"
                f"代码 {inner.recipient.code} 的）")
    return None


def units_problem(manifest: Manifest, covered: Iterable[str]) -> str | None:
    """Why the package's unit list names a unit it may not speak for: only its sender and
    units whose own packages it carries (`covered`)."""
    allowed = {manifest.sender.code, *covered}
    for unit in manifest.units:
        if unit.code not in allowed:
            return (f"{unit_text(manifest.sender)} 的数据包列出了 {unit_text(unit)}，但包内没有该单位"
                    "自己签名的数据包：一个单位只能报送本单位的信息，其他单位的记录须附该单位签名的原始数据包")
    return None


def key_problem(speakers: Iterable[Speaker], trusted: Mapping[str, set[str]],
                retired: Mapping[str, list[Retired]] | None = None
                ) -> tuple[str | None, list[Rotation]]:
    """Why a carried package is not signed by a key this level knows for its unit: when this
    level trusts keys of that unit directly, vouching by another unit does not replace them
    (a chain of the unit's own rotation statements from a trusted key does); and no carried
    package may be signed by a key retired (rotated away, revoked) before it was made.

    Returns the problem (or None) and the rotations the decision took from the package."""
    speakers = list(speakers)
    retired = retired or {}
    rotations = [r for s in speakers for r in s.statements.rotations]
    taken: list[Rotation] = []
    for s in speakers:
        if s.carrier is None:
            continue
        who = unit_text(s.unit)
        known = trusted.get(s.unit.code)
        if known:
            when = s.created or datetime.max.replace(tzinfo=UTC)
            st = standing(who, s.unit.code, s.fingerprint, when, known,
                          retired if s.created else {}, rotations)
            if not st.ok:
                return f"{unit_text(s.carrier)} 转报的 {who} 的数据包被拒绝：{st.message}", []
            taken += [r for r in st.rotations if r not in taken]
        elif s.created is not None:
            why = retirement_problem(who, s.fingerprint, s.created, [
                x for x in retired.get(s.fingerprint, []) if x.unit_code == s.unit.code])
            if why is not None:
                return f"{unit_text(s.carrier)} 转报的数据包被拒绝：{why}", []
    return None, taken


def revocations_problem(speakers: Iterable[Speaker], parents: Mapping[str, str | None]
                        ) -> tuple[str | None, list[Revocation]]:
    """The revocations a package's tree carries, each accepted only from the level
    responsible for the unit: the unit whose package carries that unit's package here, or
    the unit's parent as this register knows it."""
    speakers = list(speakers)
    carriers = {(s.unit.code, s.carrier.code) for s in speakers if s.carrier is not None}
    out: list[Revocation] = []
    for s in speakers:
        for r in s.statements.revocations:
            if (r.unit_code, s.unit.code) not in carriers and parents.get(r.unit_code) != \
                    s.unit.code:
                return (f"{unit_text(s.unit)} 吊销了代码 {r.unit_code} 的单位的公钥，但该单位不是"
                        f"经 {s.unit.name} 报送的下级单位：只接受负责该单位的上级单位作出的吊销"), []
            out.append(r)
    return None, out


#: a record id already in the register -> (sender code of the received package holding it, or
#: None for the register's own records, and the record's name)
Owners = Mapping[str, tuple[str | None, str]]


def refusal(sender: UnitRef, own_code: str, unit_codes: Iterable[str],
            record_ids: Iterable[str], owners: Owners) -> str | None:
    """Why this register refuses a package that is otherwise sound; None when it may merge.

    `unit_codes`: every unit the package speaks for or names (its records' units, its unit
    list, the senders of the packages it carries); `owners`: the register's holders of the
    package's record ids (only ids that exist). The package's own sender's earlier packages
    may hold its ids (a newer package replaces them); anything else holding one refuses it.
    """
    if sender.code == own_code:
        return None  # the own package: only verified, never merged (the services say so)
    if own_code in set(unit_codes):
        return (f"{unit_text(sender)} 的数据包含有本单位（代码 {own_code}）的记录或信息："
                "其他单位不能代本单位报送")
    for rid in record_ids:
        held = owners.get(rid)
        if held is not None and held[0] != sender.code:
            return (f"记录编号 {rid}（{held[1]}）已属于登记库中别的单位或别的数据包，"
                    f"{sender.name} 不能用它报送")
    return None
