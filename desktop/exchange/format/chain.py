"""The sender's audit chain as a package carries it (audit/audit.jsonl), and whether it extends
the head the receiving level accepted last: the anchor (docs/packages.md, "Audit anchoring").

Anyone with a register's passphrase can rewrite its audit chain and re-hash it so that its own
`dengji audit` passes. What was already sent cannot be rewritten unseen: every package carries
the whole chain and names its head (``audit_head`` in the signed manifest); the receiving level
keeps the head of the last package it merged from each sender, and a later package whose chain
does not hold, at the anchored sequence, an entry with exactly the anchored hash is refused,
naming the entries that differ (sequence, action and time only, never a value). The chain is
checked from its first entry: each entry's hash over its fields and the previous hash.

Pure functions over bytes; storing anchors is exchange/anchor.py's.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from desktop.storage.audit import GENESIS_HASH, entry_hash

#: bytes of each entry's hash kept in an anchor's trail (to name entries, not to decide)
TRAIL_BYTES = 8
_KEYS = frozenset({"seq", "ts", "actor", "action", "target", "detail", "prev_hash", "hash"})
_SHOWN = 5


class Anchor(NamedTuple):
    """The last accepted head of a sender's chain, and a short trail of every entry up to it."""

    seq: int
    hash: str
    trail: bytes = b""


#: the few actions whose detail the receiving level shows, and the fields of it kept (short
#: texts): a handover names the outgoing and incoming clerks (services/handover.py)
HANDOVER = "register.handover"
SAID_UPWARD = {HANDOVER: ("from", "to")}


class ChainEntry(NamedTuple):
    """What the check keeps of a carried entry: no actor, target or detail — but for the
    actions of SAID_UPWARD, the texts of their named detail fields (`said`)."""

    seq: int
    hash: str
    action: str
    ts: str
    said: tuple[str, ...] = ()


class ChainError(Exception):
    """The carried audit log is malformed or does not verify; the message is Chinese."""


def _text(entry: dict[str, Any], key: str, seq: Any) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or len(value) > 10_000:
        raise ChainError(f"审计日志第 {seq} 条的“{key}”格式不正确")
    return value


def read_chain(raw: bytes | None) -> tuple[ChainEntry, ...]:
    """Read and verify a carried audit log from its first entry; ChainError names the entry."""
    if not raw:
        return ()
    entries: list[ChainEntry] = []
    prev = GENESIS_HASH
    for n, line in enumerate(raw.splitlines(), start=1):
        try:
            entry = json.loads(line)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise ChainError(f"审计日志第 {n} 行不是有效的 JSON") from err
        if not isinstance(entry, dict) or set(entry) != _KEYS:
            raise ChainError(f"审计日志第 {n} 行的字段不正确")
        seq = entry["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq != n:
            raise ChainError(f"审计日志第 {n} 行的序号不连续（应为 {n}）")
        texts = [_text(entry, k, seq) for k in ("ts", "actor", "action", "target", "prev_hash",
                                                "hash")]
        if texts[4] != prev:
            raise ChainError(f"审计日志第 {seq} 条与前一条对不上")
        if entry_hash(seq, *texts[:4], entry["detail"], prev) != texts[5]:
            raise ChainError(f"审计日志第 {seq} 条的内容与其哈希不符")
        prev = texts[5]
        said = SAID_UPWARD.get(texts[2])
        detail = entry["detail"]
        entries.append(ChainEntry(seq, prev, texts[2][:100], texts[0][:40], tuple(
            str(detail.get(k, ""))[:100] for k in said) if said and isinstance(detail, dict)
            else ()))
    return tuple(entries)


def anchor_of(entries: tuple[ChainEntry, ...]) -> Anchor | None:
    """The anchor a merged package leaves: its chain's head and trail (None for no chain)."""
    if not entries:
        return None
    trail = b"".join(bytes.fromhex(e.hash)[:TRAIL_BYTES] for e in entries)
    return Anchor(entries[-1].seq, entries[-1].hash, trail)


def head_problem(entries: tuple[ChainEntry, ...], declared: tuple[int, str] | None
                 ) -> str | None:
    """Why the manifest's audit_head is not the carried log's last entry (None when it is,
    or when the manifest names none, as version 1 packages may)."""
    if declared is None:
        return None
    last = (entries[-1].seq, entries[-1].hash) if entries else None
    if last != declared:
        return (f"清单中签名的审计日志末条（第 {declared[0]} 条）与所附审计日志"
                f"{'（为空）' if last is None else f'的末条（第 {last[0]} 条）'}不符")
    return None


def extends(entries: tuple[ChainEntry, ...], anchor: Anchor) -> str | None:
    """None when the chain holds the anchored entry unchanged; otherwise a Chinese message
    naming the entries that differ from those accepted before (seq, action, time)."""
    if len(entries) >= anchor.seq and entries[anchor.seq - 1].hash == anchor.hash:
        return None
    known = len(anchor.trail) // TRAIL_BYTES
    differ = [e for e in entries[:min(anchor.seq, known)]
              if bytes.fromhex(e.hash)[:TRAIL_BYTES]
              != anchor.trail[(e.seq - 1) * TRAIL_BYTES:e.seq * TRAIL_BYTES]]
    parts = []
    if differ:
        shown = "、".join(f"第 {e.seq} 条（{e.action}，{e.ts}）" for e in differ[:_SHOWN])
        more = f"等 {len(differ)} 条" if len(differ) > _SHOWN else ""
        parts.append(f"{shown}{more}与上次接收时不同")
    if len(entries) < anchor.seq:
        gone = (f"{len(entries) + 1}–{anchor.seq}" if len(entries) + 1 < anchor.seq
                else f"{anchor.seq}")
        parts.append(f"上次接收时已有的第 {gone} 条缺失")
    if not parts:
        parts.append(f"第 {anchor.seq} 条与上次接收时不同")
    return ("发送单位的审计日志改写了已经报送过的历史：" + "；".join(parts)
            + f"（上次接收到第 {anchor.seq} 条）。请不要合并，先与发送单位核实原因"
            "（如恢复过备份或改动过登记库），并报告上级；确属正当原因的，可用 dengji anchors "
            "forget 写明原因后清除该单位的锚点，再重新合并")


def check(entries: tuple[ChainEntry, ...] | None, raw: bytes | None,
          declared: tuple[int, str] | None, anchor: Anchor | None
          ) -> tuple[tuple[ChainEntry, ...] | None, bool, str]:
    """The reader's check of a package's chain (read from `raw` unless `entries` were read
    before): (entries, ok, message for the clerk)."""
    if entries is None:
        try:
            entries = read_chain(raw)
        except ChainError as err:
            return None, False, f"{err}：数据包所附的审计日志不完整或被改动过"
    why = head_problem(entries, declared) or (extends(entries, anchor) if anchor else None)
    if why:
        return entries, False, why
    if not entries:
        return entries, True, "未附审计日志"
    since = (f"延续上次接收的第 {anchor.seq} 条" if anchor
             else f"首次接收该单位的审计日志，此后的数据包须延续第 {entries[-1].seq} 条")
    return entries, True, f"{len(entries)} 条，哈希链完整，{since}"
