"""Audit anchoring: history already sent cannot be rewritten unseen.

A firm can rewrite its own audit chain and re-hash it so that its own `dengji audit` passes;
the city keeps the head of the chain the firm's last merged package carried, and refuses a
later package whose chain does not hold that entry unchanged, naming the entries that differ
(sequence, action, time) and no personal value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from desktop.exchange.format.chain import TRAIL_BYTES, Anchor, extends, read_chain
from desktop.exchange.format.manifest import AUDIT, ManifestError, parse_manifest
from desktop.progress import run
from desktop.services import packages as svc
from desktop.storage import AuditEntry, Meta, Record, Register, verify_audit_chain
from desktop.storage.audit import HEAD_KEY
from desktop.storage.tables import AuditAnchor, Package
from tests.exchange.conftest import CITY, World, counts, resign, unzip
from tests.exchange.formats import manifest_of, open_members, to_v1
from tests.storage.test_audit_records import rewrite_chain


def head(register: Register) -> tuple[int, str]:
    with register.session() as session:
        seq, digest = session.get(Meta, HEAD_KEY).value.split(":")
    return int(seq), digest


def anchor_row(register: Register, code: str) -> AuditAnchor | None:
    with register.session() as session:
        row = session.get(AuditAnchor, code)
        if row is not None:
            session.expunge(row)
        return row


def more_work(world: World, firm_register: Register, seed: int) -> None:
    """The firm changes a member's mobile number through the application (new audit entries)."""
    from desktop.services.editing import EditSession

    with firm_register.session() as session:
        rid = session.execute(select(Record.id).where(Record.form_id == "lawyer_member")
                              .order_by(Record.id)).scalars().first()
    edit = EditSession(firm_register, world.forms, world.forms.form("lawyer_member"),
                       firm_register.own_unit_id, actor="测试员")
    edit.load(rid)
    edit.set_raw("mobile", f"139{seed:08d}")
    assert edit.save()


@pytest.fixture
def linked(world: World):
    city = world.register(CITY)
    firm = world.firm(seed=51, parent=city)
    return world, city, firm


def test_a_merge_stores_the_head_the_package_signed(linked) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    manifest = manifest_of(first.path.read_bytes())
    firm_head = head(firm.register)
    # the export's own entry comes after the package was made: the package names the head
    # before it, and the manifest signs it
    assert manifest["audit_head"] == {"seq": firm_head[0] - 1, "hash": manifest["audit_head"]
                                      ["hash"]}
    assert parse_manifest(unzip(first.path.read_bytes())["manifest.json"]).audit_head == (
        manifest["audit_head"]["seq"], manifest["audit_head"]["hash"])
    [report] = world.merge(city, first.path)
    assert report.status == "merged"
    row = anchor_row(city, manifest["sender"]["code"])
    assert (row.seq, row.hash) == (manifest["audit_head"]["seq"], manifest["audit_head"]["hash"])
    assert row.package_id == first.package_id and len(row.trail) == row.seq * TRAIL_BYTES
    check = next(c for c in report.verification.checks if c.name == "审计日志")
    assert check.ok and f"须延续第 {row.seq} 条" in check.message


def test_an_honest_second_package_extends_the_anchor(linked) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    assert world.merge(city, first.path)[0].status == "merged"
    before = anchor_row(city, manifest_of(first.path.read_bytes())["sender"]["code"])
    more_work(world, firm.register, seed=52)
    second = world.export(firm.register)
    [report] = world.merge(city, second.path)
    assert report.status == "merged", report.reason
    check = next(c for c in report.verification.checks if c.name == "审计日志")
    assert check.ok and f"延续上次接收的第 {before.seq} 条" in check.message
    after = anchor_row(city, before.sender_code)
    assert after.seq > before.seq and after.package_id == second.package_id
    assert after.trail[:len(before.trail)] == before.trail


def test_a_rewritten_entry_already_sent_is_refused_naming_the_entries(linked) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    assert world.merge(city, first.path)[0].status == "merged"
    code = manifest_of(first.path.read_bytes())["sender"]["code"]
    anchored = anchor_row(city, code)
    with firm.register.session() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "import")
                                .order_by(AuditEntry.seq)).scalars().first()
        seq, ts, action = entry.seq, entry.ts, entry.action
    # the firm edits a record outside the application and hides it in its own chain
    rewrite_chain(firm.register, seq, lambda d: d.update(imported=d["imported"] + 1))
    with firm.register.session() as session:
        assert verify_audit_chain(session).ok  # its own audit passes
    more_work(world, firm.register, seed=53)
    second = world.export(firm.register)
    before = counts(city)

    verified = svc.verify_file(second.path, world.forms, city)
    check = next(c for c in verified.checks if c.name == "审计日志")
    assert check.ok is False and not verified.ok
    [report] = world.merge(city, second.path)
    assert report.status == "refused"
    assert counts(city) == before  # nothing of it written, the anchor stays
    assert anchor_row(city, code).hash == anchored.hash
    for text in (check.message, report.reason):
        assert f"第 {seq} 条（{action}，{ts}）" in text
        assert f"上次接收到第 {anchored.seq} 条" in text
        assert "改写了已经报送过的历史" in text
    # every entry from the rewritten one to the anchored head differs; none before it
    changed = anchored.seq - seq + 1
    assert (f"等 {changed} 条" in check.message) == (changed > 5)
    if seq > 1:
        assert "第 1 条（" not in check.message
    for m in firm.members:
        assert m["姓名"] not in report.reason and m["公民身份号码"] not in report.reason


@pytest.mark.parametrize("parallel", [False, True])
def test_a_rewrite_in_the_same_merge_as_the_package_it_contradicts_is_refused(
        linked, parallel: bool) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    rewrite_chain(firm.register, 2, lambda d: d.update(forged=True))
    second = world.export(firm.register)
    # both are prepared against the same view (in a worker process, too): the second is
    # checked again against the anchor the first leaves before it is written
    reports = run(svc.merge_packages(city, world.forms, [first.path, second.path],
                                     parallel=parallel))
    assert [r.status for r in reports] == ["merged", "refused"]
    assert "第 2 条（" in reports[1].reason


@pytest.mark.parametrize("later", [0, 3])
def test_cut_off_history_is_refused(linked, later: int) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    assert world.merge(city, first.path)[0].status == "merged"
    anchored = anchor_row(city, manifest_of(first.path.read_bytes())["sender"]["code"])
    assert anchored.seq >= 4
    with firm.register.session() as session:  # as after restoring an early backup
        session.execute(delete(AuditEntry).where(AuditEntry.seq > 2))
        last = session.get(AuditEntry, 2)
        session.get(Meta, HEAD_KEY).value = f"2:{last.hash}"
        session.commit()
        assert verify_audit_chain(session).ok
    for n in range(later):  # new work after the cut: as many entries, other hashes
        more_work(world, firm.register, seed=60 + n)
    second = world.export(firm.register)
    [report] = world.merge(city, second.path)
    assert report.status == "refused"
    if later:
        assert "第 3 条（record.save，" in report.reason and "与上次接收时不同" in report.reason
    else:
        assert f"上次接收时已有的第 3–{anchored.seq} 条缺失" in report.reason


def test_a_manifest_head_that_is_not_the_carried_chain_is_refused(linked) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    forged = first.path.with_name("forged.djpkg")
    forged.write_bytes(resign(first.path.read_bytes(), firm.register,
                              lambda m: m["audit_head"].update(seq=m["audit_head"]["seq"] - 1)))
    [report] = world.merge(city, forged)
    assert report.status == "refused"
    assert "清单中签名的审计日志末条" in report.reason


def test_a_carried_chain_that_does_not_verify_is_refused(linked) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    lines = open_members(first.path.read_bytes(), firm.register)[AUDIT].splitlines()
    entry = json.loads(lines[1])
    entry["actor"] = "别人"  # changed without re-hashing
    lines[1] = json.dumps(entry, ensure_ascii=False).encode()
    forged = first.path.with_name("forged.djpkg")
    forged.write_bytes(resign(first.path.read_bytes(), firm.register,
                              members={AUDIT: b"\n".join(lines) + b"\n"}))
    [report] = world.merge(city, forged)
    assert report.status == "refused"
    assert "审计日志第 2 条的内容与其哈希不符" in report.reason


def test_a_version_1_package_without_a_head_is_accepted_and_starts_the_anchor(linked) -> None:
    world, city, firm = linked
    first = world.export(firm.register)

    def old(manifest: dict) -> None:
        del manifest["audit_head"]

    v1 = to_v1(first.path.read_bytes(), firm.register)
    data = resign(v1, firm.register, old)
    manifest = manifest_of(data)
    assert manifest["format_version"] == 1 and "audit_head" not in manifest
    path = first.path.with_name("old.djpkg")
    path.write_bytes(data)
    [report] = world.merge(city, path)
    assert report.status == "merged", report.reason
    carried = read_chain(unzip(data)[AUDIT])
    row = anchor_row(city, manifest["sender"]["code"])
    assert (row.seq, row.hash) == (carried[-1].seq, carried[-1].hash)
    # and the anchor holds for what comes next
    rewrite_chain(firm.register, 1, lambda d: d.update(forged=True))
    second = world.export(firm.register)
    [report] = world.merge(city, second.path)
    assert report.status == "refused" and "第 1 条（" in report.reason


def test_the_merge_entry_holds_the_received_records_digests(linked) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    world.merge(city, first.path)
    with city.session() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "merge")
                                ).scalars().one()
        [package] = json.loads(entry.detail)["packages"]
        ids = set(session.execute(select(Record.id).where(
            Record.package_id == package["package"])).scalars())
        assert set(package["record_hashes"]) == ids
        assert session.get(Package, package["package"]) is not None
        from desktop.storage.audit import check_records

        assert check_records(session).ok and check_records(session).checked == len(ids)


def test_extends_names_only_the_entries_that_differ() -> None:
    from desktop.exchange.format.chain import ChainEntry, anchor_of

    old = tuple(ChainEntry(i, f"{i:064x}", "record.save", f"2026-01-0{i}T00:00:00Z")
                for i in range(1, 5))
    anchor = anchor_of(old)
    assert extends(old + (ChainEntry(5, "f" * 64, "export", "t"),), anchor) is None
    new = old[:2] + tuple(e._replace(hash="e" * 64) for e in old[2:])
    message = extends(new, anchor)
    assert "第 3 条（record.save，2026-01-03T00:00:00Z）、第 4 条（" in message
    assert "第 2 条" not in message
    assert "第 3–4 条缺失" in extends(old[:2], anchor)
    assert extends(old, Anchor(4, "0" * 64)) is not None  # no trail: the head alone decides


@pytest.mark.parametrize("bad", [{"seq": 0, "hash": "a" * 64}, {"seq": 1, "hash": "A" * 64},
                                 {"seq": 1}, {"seq": True, "hash": "a" * 64},
                                 {"seq": 1, "hash": "a" * 64, "x": 1}, [1, "a" * 64], "1:aa"])
def test_a_malformed_audit_head_is_refused(linked, bad) -> None:
    world, _, firm = linked
    first = world.export(firm.register)
    raw = json.loads(unzip(first.path.read_bytes())["manifest.json"])
    raw["audit_head"] = bad
    with pytest.raises(ManifestError, match="audit_head"):
        parse_manifest(json.dumps(raw).encode())


def test_the_cli_verify_shows_the_check(linked, tmp_path: Path) -> None:
    world, city, firm = linked
    first = world.export(firm.register)
    world.merge(city, first.path)
    more_work(world, firm.register, seed=54)
    second = world.export(firm.register)
    verified = svc.verify_file(second.path, world.forms, city)
    assert verified.ok
    assert any(c.name == "审计日志" and c.ok for c in verified.checks)


def test_a_settled_break_is_forgotten_with_a_reason_and_the_next_package_anchors_anew(
        linked) -> None:
    from desktop.errors import UsageError
    from desktop.services.packages.anchors import forget_anchor, list_anchors

    world, city, firm = linked
    first = world.export(firm.register)
    assert world.merge(city, first.path)[0].status == "merged"
    code = manifest_of(first.path.read_bytes())["sender"]["code"]
    [row] = list_anchors(city)
    assert row.sender_code == code
    rewrite_chain(firm.register, 2, lambda d: d.update(restored=True))  # as after a restore
    second = world.export(firm.register)
    assert world.merge(city, second.path)[0].status == "refused"
    with pytest.raises(UsageError, match="--reason"):
        forget_anchor(city, code, "  ")
    forget_anchor(city, code, "已电话核实：该所恢复了备份", actor="市级管理员")
    with city.session() as session:
        last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())
                               ).scalars().first()
    assert last.action == "anchor.forget" and last.target == code
    assert json.loads(last.detail)["seq"] == row.seq and last.actor == "市级管理员"
    [report] = world.merge(city, second.path)
    assert report.status == "merged", report.reason
    assert anchor_row(city, code).package_id == second.package_id


def test_the_anchors_command(dengji, db: Path) -> None:
    result = dengji("anchors", "list", "--db", db)
    assert result.code == 0 and "还没有任何发送单位的审计日志锚点" in result.out
    result = dengji("anchors", "forget", "--db", db, "110000CITY", "--reason", "核实过")
    assert result.code == 1 and "没有单位代码 110000CITY 的审计日志锚点" in result.err
    assert dengji("anchors", "forget", "--db", db, "110000CITY").code == 2


def test_a_city_that_rewrites_a_merge_it_already_reported_is_refused_by_the_province(
        world: World) -> None:
    from tests.exchange.conftest import PROVINCE

    city = world.register(CITY, "city.dengji")
    province = world.register(PROVINCE, "province.dengji")
    world.link(city, province)
    firm = world.firm(seed=55, parent=city)
    sent = world.export(firm.register)
    assert world.merge(city, sent.path)[0].status == "merged"
    svc.accept_package(city, sent.package_id)
    up = world.export(city)
    assert world.merge(province, up.path)[0].status == "merged"
    assert anchor_row(province, CITY.code).package_id == up.package_id
    with city.session() as session:
        merge_seq = session.execute(select(AuditEntry.seq).where(AuditEntry.action == "merge")
                                    ).scalars().one()
    # the city hides a record it dropped from what it merged, in its own chain
    rewrite_chain(city, merge_seq, lambda d: d["packages"][0].update(records=0))
    again = world.export(city)
    [report] = world.merge(province, again.path)
    assert report.status == "refused"
    assert f"第 {merge_seq} 条（merge，" in report.reason
    assert anchor_row(province, CITY.code).package_id == up.package_id  # unchanged
