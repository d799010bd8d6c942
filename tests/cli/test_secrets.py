"""`dengji init` (the recovery key), `dengji passphrase`, `dengji recover` (typed or from a
scanned sheet) and `dengji recovery-key`, driven in process as a clerk would; the sheet is
rendered and its QR code read back from a rotated, shrunken 'photo' and a JPEG 'scan'."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from desktop.errors import UsageError, WrongPassphrase
from desktop.services.secrets import read_recovery_image, recovery_state
from desktop.storage import open_register
from desktop.storage import recovery as slots
from tests.conftest import PASSPHRASE, UNIT_CODE, UNIT_NAME, stored_state
from tests.stores import is_server

NEW = "海棠花开的小院子 Garden-2031"
KEY_LINE = re.compile(r"^ {4}(\d{6})  (\d{6})  (\d{6})  (\d{6})$", re.M)


def printed_key(out: str) -> str:
    groups = [g for line in KEY_LINE.findall(out) for g in line]
    assert len(groups) == 16, out
    return "-".join(groups)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.name.endswith((".lock", "-shm", "-wal"))}


def everything(folder: Path, db: Path | str) -> dict[str, bytes]:
    """The files in `folder` and what the register holds (a file's bytes or, on a server,
    every row of its tables): what a refused command must leave as it was."""
    return {**files(folder), "登记库": stored_state(db)}


def nothing_made(db: Path | str) -> bool:
    """No register file, or a database without a single table."""
    return stored_state(db) == b"[]" if is_server(db) else not Path(db).exists()


def init(dengji, path: Path | str, *extra):
    return dengji("init", "--db", path, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE, *extra)


def state(path: Path | str, passphrase: str = PASSPHRASE):
    with open_register(path, passphrase) as reg:
        return recovery_state(reg)


def render(pdf: Path, dpi: float) -> Image.Image:
    doc = pdfium.PdfDocument(pdf.read_bytes())
    try:
        return doc[0].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        doc.close()


def test_init_shows_the_key_once_writes_the_sheet_and_confirms_with_yes(dengji, place, tmp_path):
    path, sheet = place, tmp_path / "恢复密钥.pdf"
    result = init(dengji, path, "--recovery-sheet", sheet, "--yes")
    assert result.code == 0, result.err
    key = printed_key(result.out)
    assert sheet.read_bytes().startswith(b"%PDF")
    assert slots.parse_key(key)  # well formed
    found = state(path)
    assert found.has_key and found.confirmed and found.key_id in result.out
    assert slots.key_id(slots.parse_key(key)) == found.key_id
    # the key is nowhere on disk, nor in the server's tables, but in the sheet the clerk asked
    # for (as a QR code and text)
    for name, data in everything(tmp_path, path).items():
        if name != sheet.name:
            assert key.encode() not in data and key.replace("-", "").encode() not in data, name
    # the printed sheet's QR code, photographed a little askew and smaller, gives the key back
    photo = tmp_path / "photo.png"
    render(sheet, 150).rotate(7, expand=True, fillcolor="white").resize((900, 1290)).save(photo)
    assert read_recovery_image(photo) == key
    scan = tmp_path / "scan.jpg"
    render(sheet, 100).convert("L").save(scan, quality=70)
    assert read_recovery_image(scan) == key


def test_init_without_a_terminal_leaves_the_key_unconfirmed_and_says_so(dengji, place):
    path = place
    result = init(dengji, path)
    assert result.code == 0
    printed_key(result.out)
    assert "尚未确认" in result.err and "dengji recovery-key" in result.err
    assert not state(path).confirmed


def test_init_refuses_a_sheet_that_is_no_pdf_before_making_anything(dengji, place, tmp_path):
    result = init(dengji, place, "--recovery-sheet", tmp_path / "key.txt")
    assert result.code == 2 and "PDF" in result.err and nothing_made(place)


def test_passphrase_change_on_the_command_line(dengji, db, tmp_path, monkeypatch):
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", "12345678")
    before = everything(tmp_path, db)
    weak = dengji("passphrase", "--db", db)
    assert weak.code == 1 and "新口令不能使用" in weak.err and "口令未修改" in weak.err
    assert everything(tmp_path, db) == before
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE + "x")
    wrong = dengji("passphrase", "--db", db)
    assert wrong.code == 1 and "口令不正确" in wrong.err
    assert everything(tmp_path, db) == before
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    done = dengji("passphrase", "--db", db)
    assert done.code == 0, done.err
    # a file is backed up first; on a server only the data key's wrapping changes
    assert "已修改" in done.out
    assert ("收回其 PostgreSQL 角色" if is_server(db) else "已备份到") in done.out
    with pytest.raises(WrongPassphrase):
        open_register(db, PASSPHRASE)
    assert state(db, NEW).has_key
    monkeypatch.setenv("DENGJI_PASSPHRASE", NEW)
    assert dengji("audit", "--db", db).code == 0


def test_recover_from_a_typed_key_or_a_scanned_sheet(dengji, place, tmp_path, monkeypatch):
    path, sheet = place, tmp_path / "sheet.pdf"
    key = printed_key(init(dengji, path, "--recovery-sheet", sheet, "--yes").out)
    monkeypatch.delenv("DENGJI_PASSPHRASE")  # forgotten
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    groups = key.split("-")
    groups[4] = groups[4][:3] + str((int(groups[4][3]) + 1) % 10) + groups[4][4:]
    typo = tmp_path / "typo.txt"
    typo.write_text(" ".join(groups), encoding="utf-8")
    before = everything(tmp_path, path)
    bad = dengji("recover", "--db", path, "--key-file", typo)
    assert bad.code == 1 and "第 5 组输入有误" in bad.err and "未作任何改动" in bad.err
    assert everything(tmp_path, path) == before
    on_line = dengji("recover", "--db", path, "--key", key)
    assert on_line.code == 2 and "不能直接写在命令行上" in on_line.err
    monkeypatch.setattr("sys.stdin", io.StringIO(key.replace("-", " ") + "\n"))
    done = dengji("recover", "--db", path, "--key", "-")
    assert done.code == 0, done.err
    assert "已用恢复密钥打开" in done.out
    assert state(path, NEW).has_key

    scan = tmp_path / "scan.png"
    render(sheet, 120).save(scan)
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", PASSPHRASE)
    again = dengji("recover", "--db", path, "--image", scan)
    assert again.code == 0, again.err
    state(path, PASSPHRASE)
    blank = tmp_path / "blank.png"
    Image.new("L", (400, 400), 255).save(blank)
    assert "没有找到二维码" in dengji("recover", "--db", path, "--image", blank).err
    not_image = tmp_path / "not.png"
    not_image.write_text("hello", encoding="utf-8")
    assert "不是能读取的图片" in dengji("recover", "--db", path, "--image", not_image).err


def test_recovery_key_command_voids_the_old_key(dengji, place, tmp_path):
    path = place
    old = printed_key(init(dengji, path, "--yes").out)
    sheet = tmp_path / "new.pdf"
    result = dengji("recovery-key", "--db", path, "--sheet", sheet, "--yes")
    assert result.code == 0, result.err
    new = printed_key(result.out)
    assert new != old and "已作废" in result.out and sheet.is_file()
    from desktop.services.secrets import recovery_problem

    assert "已被" in recovery_problem(path, old)
    assert recovery_problem(path, new) is None
    assert dengji("recovery-key", "--db", path, "--sheet", tmp_path / "x.txt").code == 2


def test_a_qr_code_that_is_no_recovery_key_is_refused(tmp_path):
    import segno

    other = tmp_path / "other.png"
    segno.make("DJ1:R:ABC:0123456789ABCDEF").save(str(other), scale=8)
    with pytest.raises(UsageError, match="不是恢复密钥"):
        read_recovery_image(other)


def test_a_register_without_a_key_is_said_so_when_a_command_opens_it(dengji, place, tmp_path):
    from desktop.storage import UnitInfo, create_register

    path = place
    create_register(path, PASSPHRASE, UnitInfo(UNIT_CODE, UNIT_NAME, "firm")).close()
    result = dengji("audit", "--db", path)
    assert result.code == 0 and "还没有恢复密钥" in result.err and "dengji recovery-key" in result.err
    made = dengji("recovery-key", "--db", path, "--sheet", tmp_path / "s.pdf", "--yes")
    assert made.code == 0 and "还没有恢复密钥" not in made.err and "作废" not in made.out
    assert "还没有恢复密钥" not in dengji("audit", "--db", path).err


def test_an_image_is_bounded_before_it_is_decoded(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12_000, 11_000), 1).save(bomb)  # 132 million pixels in a few kB
    assert bomb.stat().st_size < 2**20
    with pytest.raises(UsageError, match="像素太多"):
        read_recovery_image(bomb)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    with pytest.raises(UsageError):
        read_recovery_image(fifo)  # said, never opened (it would block)


def test_a_manual_backup_carries_its_slot_and_says_so(dengji, tmp_path):
    """A file's recovery slot is a side file a backup copies; a server register's slot is in
    its tables, which pg_dump copies (tests/pg/test_cli_pg.py)."""
    from desktop.services.secrets import recovery_problem

    path = tmp_path / "r.dengji"
    key = printed_key(init(dengji, path, "--yes").out)
    out = tmp_path / "u盘" / "备份.dengji"
    result = dengji("backup", "--db", path, "--out", out)
    assert result.code == 0 and "备份.dengji-recovery" in result.out
    assert recovery_problem(out, key) is None


class Terminal(io.StringIO):
    """Standard input as a terminal the clerk types lines into."""

    def isatty(self) -> bool:
        return True


def test_at_a_terminal_the_clerk_confirms_by_typing_the_last_group(dengji, place, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal("123456\n"))
    path = place
    result = init(dengji, path)
    assert result.code == 0 and "与最后一组不一致" in result.err and not state(path).confirmed
    printed_key(result.out)
    secret = bytes(range(32))  # the next key, known here to type its last group
    monkeypatch.setattr(slots, "new_secret", lambda: secret)
    last = slots.key_text(secret).split("-")[-1]
    monkeypatch.setattr("sys.stdin", Terminal(f"000000\n{last}\n"))
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    sheet = tmp_path / "new.pdf"
    changed = dengji("passphrase", "--db", path, "--new-recovery-key", "--sheet", sheet)
    assert changed.code == 0, changed.err
    assert "已确认" in changed.out and sheet.read_bytes().startswith(b"%PDF")
    assert "与最后一组不一致" in changed.err and printed_key(changed.out) == slots.key_text(secret)
    found = state(path, NEW)
    assert found.confirmed and found.key_id in changed.out
    assert dengji("passphrase", "--db", path, "--sheet", sheet).code == 2  # --sheet alone
