"""Reading is bounded by the input, not by the attacker (issue 14), tried as an attacker would.

- A small workbook that inflates to hundreds of megabytes — a sheet of repeated bytes, or one
  huge shared string — is refused with a message before the memory is taken, whether its zip
  says how large it inflates (checked from the central directory) or lies about it (checked
  while inflating): the refusing process stays far below what reading it would cost.
- What is no regular file — a FIFO, a link to /dev/zero, a folder — given to validate, import,
  merge, verify, keys trust, as a register or as a backup to restore is refused at once (never
  a hang: every run has a timeout).
- A package with bytes after its end record, a symlink entry or two entries of one name is
  refused.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from desktop.errors import UsageError
from desktop.exchange.format.errors import PackageRefused
from desktop.exchange.format.zipcheck import read_members
from desktop.inputs import check_zip, regular_file
from tests.robustness.conftest import child_env, dengji_cmd, run_dengji

MIB = 1 << 20
#: what the bombs inflate to: far more than a refusal may cost
BOMB = 256 * MIB
#: a refused bomb costs no more than this above a small valid workbook's validate
MARGIN = 96 * MIB
HEADER = ["会员证号", "姓名", "公民身份号码", "工作单位"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev/zero: POSIX")


# --- making the files ------------------------------------------------------------------------


def small_workbook(path: Path) -> Path:
    """A valid register workbook (XlsxWriter: shared strings, one sheet)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("会员信息")
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["0024-000001", "张三", "", "辽宁大学法学院"])
    wb.close()
    return path


def rewrite(source: Path, out: Path, member: str, make, *, lie: int | None = None) -> Path:
    """`source` with `member` replaced by the chunks `make(original bytes)` yields, deflated
    as a stream; with `lie`, the zip then says the member inflates to `lie` bytes."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                          compresslevel=9) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename != member:
                zout.writestr(info.filename, data)
                continue
            with zout.open(member, "w", force_zip64=False) as fh:
                for chunk in make(data):
                    fh.write(chunk)
    if lie is not None:
        lie_about_size(out, member, lie)
    return out


def lie_about_size(path: Path, member: str, size: int) -> None:
    """Write `size` as the member's uncompressed size in its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data[info.header_offset + 22:info.header_offset + 26] = size.to_bytes(4, "little")
    name = member.encode()
    at = 0
    while True:
        at = data.find(b"PK\x01\x02", at)
        assert at >= 0, "central header not found"
        n = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + n]) == name:
            data[at + 24:at + 28] = size.to_bytes(4, "little")
            break
        at += 4
    path.write_bytes(bytes(data))


def repeat(block: bytes, total: int):
    sent = 0
    while sent < total:
        yield block
        sent += len(block)


def sheet_bomb(source: Path, out: Path, *, lie: int | None = None) -> Path:
    """A sheet whose rows go on: the same cell repeated to BOMB bytes after the real rows."""
    cell = b'<row r="3"><c r="A3" t="inlineStr"><is><t>AAAAAAAA</t></is></c></row>' * 1024

    def make(xml: bytes):
        end = xml.index(b"</sheetData>")
        yield xml[:end]
        yield from repeat(cell, BOMB)
        yield xml[end:]

    return rewrite(source, out, "xl/worksheets/sheet1.xml", make, lie=lie)


def strings_bomb(source: Path, out: Path, *, lie: int | None = None) -> Path:
    """A shared-strings part with one string of BOMB bytes after the real ones."""

    def make(xml: bytes):
        end = xml.index(b"</sst>")
        yield xml[:end] + b"<si><t>"
        yield from repeat(b"A" * MIB, BOMB)
        yield b"</t></si></sst>"

    return rewrite(source, out, "xl/sharedStrings.xml", make, lie=lie)


def inflated_size(path: Path, member: str) -> int:
    """What the member's deflate stream really gives, whatever the zip says."""
    import zlib

    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        fh.seek(info.header_offset + 30 + int.from_bytes(local[26:28], "little")
                + int.from_bytes(local[28:30], "little"))
        raw = fh.read(info.compress_size)
    inflate, got = zlib.decompressobj(-15), 0
    while raw:
        got += len(inflate.decompress(raw, MIB))
        raw = inflate.unconsumed_tail
    return got


def peak_of(tmp_path: Path, *argv: object, timeout: float = 300) -> tuple[int, str, int]:
    """(exit status, stderr, peak resident bytes) of `dengji argv` in a child process."""
    err = tmp_path / f"err-{time.monotonic_ns()}.txt"
    with open(err, "wb") as fh:
        proc = subprocess.Popen(dengji_cmd(*argv), env=child_env(tmp_path), stdout=fh,
                                stderr=fh)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"dengji {argv} did not finish in {timeout} s")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err.read_text(errors="replace"), usage.ru_maxrss * 1024


# --- zip bombs -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    small = small_workbook(folder / "small.xlsx")
    return {
        "small": small,
        "sheet": sheet_bomb(small, folder / "sheet-bomb.xlsx"),
        "sheet-lying": sheet_bomb(small, folder / "sheet-lying.xlsx", lie=10 * MIB),
        "strings": strings_bomb(small, folder / "strings-bomb.xlsx"),
        "strings-lying": strings_bomb(small, folder / "strings-lying.xlsx", lie=10 * MIB),
    }


@pytest.fixture(scope="module")
def base_peak(books, tmp_path_factory) -> int:
    """The peak memory of validating the small valid workbook."""
    code, err, peak = peak_of(tmp_path_factory.mktemp("base"), "validate", "--form",
                              "society_member", books["small"])
    assert code in (0, 1), err
    return peak


@pytest.mark.parametrize("kind", ["sheet", "sheet-lying", "strings", "strings-lying"])
def test_a_zip_bomb_workbook_is_refused_before_the_memory_is_taken(books, base_peak, tmp_path,
                                                                   kind):
    bomb = books[kind]
    assert bomb.stat().st_size < 2 * MIB  # a small file …
    member = "xl/worksheets/sheet1.xml" if kind.startswith("sheet") else "xl/sharedStrings.xml"
    assert inflated_size(bomb, member) >= BOMB  # … that really inflates to more than BOMB
    code, err, peak = peak_of(tmp_path, "validate", "--form", "society_member", bomb)
    assert code == 2, err
    assert "压缩炸弹" in err and "未读取任何内容" in err and str(bomb) in err, err
    assert peak < base_peak + MARGIN, (peak / MIB, base_peak / MIB)


@pytest.mark.parametrize("kind", ["sheet", "sheet-lying", "strings", "strings-lying"])
def test_every_workbook_reader_refuses_a_bomb(books, kind):
    from desktop.reports.xlsx.book import open_book
    from desktop.reports.xlsx.cleanup_read import read_sheets
    from desktop.reports.xlsx.parts import Unusable, open_package

    bomb = books[kind]
    for read in (open_book, read_sheets):
        with pytest.raises(UsageError, match="压缩炸弹"):
            read(bomb)
    if not kind.endswith("lying"):  # the declared sizes already say it
        with pytest.raises(UsageError, match="压缩炸弹"):
            open_package(bomb)
        return
    package = open_package(bomb)  # believable sizes: the parts reader inflates no further
    assert package is not None
    try:
        name = package.worksheets()[0]
        if kind.startswith("sheet"):
            with pytest.raises(UsageError, match="压缩炸弹"):
                for _ in package.parts(name, 1 << 20):
                    pass
        else:  # read up to its declared size, found damaged there: read whole, refused
            with pytest.raises(Unusable):
                package.book(name)
    finally:
        package.close()


def test_the_limit_follows_the_file_size(tmp_path: Path) -> None:
    small = small_workbook(tmp_path / "small.xlsx")
    check_zip(small, inflate=True)  # a real workbook passes, inflated or not

    def padded(mib: int):
        def make(xml: bytes):
            yield xml
            yield from repeat(b" " * MIB, mib * MIB)
        return make

    # 3 MB of padding in a small file: under the floor any file may inflate to, fine
    loose = rewrite(small, tmp_path / "loose.xlsx", "docProps/app.xml", padded(3))
    check_zip(loose, inflate=True)
    # one member 40 MB at about 1,000× its compressed size: refused by its own ratio
    dense = rewrite(small, tmp_path / "dense.xlsx", "docProps/app.xml", padded(40))
    with pytest.raises(UsageError, match="倍"):
        check_zip(dense)
    # thirty 3 MB members, each under the ratio's threshold: refused by the total
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(small) as zin, zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        for i in range(30):
            zout.writestr(f"customXml/item{i}.xml", b" " * (3 * MIB))
    assert many.stat().st_size < MIB
    with pytest.raises(UsageError, match="解压后共超过"):
        check_zip(many)


# --- inputs that are no regular file -------------------------------------------------------


@pytest.fixture
def specials(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "管道"
    os.mkfifo(fifo)
    out = {}
    for suffix in (".jsonl", ".xlsx", ".djpkg", ".djkey", ".dengji"):
        link = tmp_path / f"fifo{suffix}"
        link.symlink_to(fifo)
        out[f"fifo{suffix}"] = link
        zero = tmp_path / f"zero{suffix}"
        zero.symlink_to("/dev/zero")
        out[f"zero{suffix}"] = zero
    (tmp_path / "folder.xlsx").mkdir()
    out["folder.xlsx"] = tmp_path / "folder.xlsx"
    return out


def test_regular_file_refuses_each_kind_at_once(specials: dict[str, Path], tmp_path) -> None:
    for path in specials.values():
        with pytest.raises(UsageError, match="不是普通文件") as err:
            regular_file(path, "工作簿")
        assert str(path) in str(err.value)
    assert "命名管道" in _message(specials["fifo.xlsx"])
    assert "设备" in _message(specials["zero.jsonl"])
    assert "文件夹" in _message(specials["folder.xlsx"])
    plain = tmp_path / "plain.jsonl"
    plain.write_text("{}\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(plain)
    assert regular_file(link) == link  # a link to a regular file is fine


def _message(path: Path) -> str:
    try:
        regular_file(path)
    except UsageError as err:
        return str(err)
    raise AssertionError(f"{path} was accepted")


def test_validate_import_merge_verify_and_trust_refuse_them_without_hanging(
        specials: dict[str, Path], db: Path, tmp_path: Path) -> None:
    # each reader with a FIFO or a device (every kind of file meets both across the runs)
    runs = [("validate", "--form", "lawyer_member", specials["fifo.jsonl"]),
            ("validate", "--form", "lawyer_member", specials["zero.xlsx"]),
            ("import", "--db", db, "--form", "lawyer_member", specials["fifo.xlsx"]),
            ("import", "--db", db, "--form", "lawyer_member", specials["zero.jsonl"]),
            ("merge", "--db", db, specials["fifo.djpkg"]),
            ("verify", "--db", db, specials["zero.djpkg"]),
            ("keys", "trust", "--db", db, specials["fifo.djkey"], "--fingerprint",
             "0000 0000 0000 0000"),
            ("keys", "trust", "--db", db, specials["zero.djkey"], "--fingerprint",
             "0000 0000 0000 0000"),
            ("audit", "--db", specials["fifo.dengji"]),  # a register
            ("restore", "--db", db, specials["zero.dengji"]),  # a backup
            ("validate", "--form", "lawyer_member", specials["folder.xlsx"])]
    for argv in runs:
        try:
            result = run_dengji(tmp_path, *argv, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"dengji {argv} hung on a file that is no regular file")
        assert result.returncode in (1, 2), (argv, result.stderr)
        assert "不是普通文件" in result.stdout + result.stderr, (argv, result.stderr)
        assert "Traceback" not in result.stderr


# --- package structure ---------------------------------------------------------------------


def _zip(members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return buf.getvalue()


def _read(data: bytes) -> dict[str, bytes]:
    return read_members(data, "test.djpkg", lambda name: True)


def test_a_plain_package_zip_reads() -> None:
    assert _read(_zip([("manifest.json", b"{}"), ("manifest.sig", b"x" * 64)])) == {
        "manifest.json": b"{}", "manifest.sig": b"x" * 64}


@pytest.mark.parametrize("tail", [b"x", b"\0" * 4096, b"PK\x03\x04 more", b"<html></html>"])
def test_bytes_after_the_end_record_are_refused(tail: bytes) -> None:
    with pytest.raises(PackageRefused, match="多余的数据"):
        _read(_zip([("manifest.json", b"{}")]) + tail)


def test_bytes_before_the_first_member_are_refused() -> None:
    data = _zip([("manifest.json", b"{}")])
    with pytest.raises(PackageRefused):
        _read(b"PK" + b"\0" * 100 + data)


def test_a_comment_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", b"{}")
        zf.comment = b"hidden"
    with pytest.raises(PackageRefused, match="多余的数据"):
        _read(buf.getvalue())


@pytest.mark.parametrize("mode", [stat.S_IFLNK | 0o777, stat.S_IFIFO | 0o644,
                                  stat.S_IFCHR | 0o644, stat.S_IFBLK | 0o644])
def test_an_entry_that_is_no_regular_file_is_refused(mode: int) -> None:
    info = zipfile.ZipInfo("data/records.jsonl", (2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    with pytest.raises(PackageRefused, match="不是普通文件"):
        _read(_zip([("manifest.json", b"{}"), (info, b"/etc/passwd")]))


def test_a_regular_unix_entry_is_fine() -> None:
    info = zipfile.ZipInfo("manifest.json", (2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    assert _read(_zip([(info, b"{}")])) == {"manifest.json": b"{}"}


def test_two_entries_of_one_name_are_refused() -> None:
    with pytest.warns(UserWarning):  # zipfile warns of the duplicate it is told to write
        data = _zip([("manifest.json", b"{}"), ("manifest.json", b'{"other": 1}')])
    with pytest.raises(PackageRefused, match="不止一次"):
        _read(data)


def test_overlapping_members_are_refused() -> None:
    """Two central-directory entries pointing at the same local data (a classic zip bomb)."""
    data = bytearray(_zip([("a.json", b"{}" * 100), ("b.json", b"[]" * 100)]))
    first = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", first + 4)
    data[second + 42:second + 46] = data[first + 42:first + 46]  # b's offset := a's
    with pytest.raises(PackageRefused):
        _read(bytes(data))


def test_package_members_are_checked_before_any_is_inflated(monkeypatch) -> None:
    """The total of the declared sizes is refused before the first read."""
    from desktop.exchange.format.zipcheck import Limits

    reads = []
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, *a: reads.append(a) or b"")
    data = _zip([(f"m{i}.json", b" " * 1000) for i in range(10)])
    with pytest.raises(PackageRefused, match="总大小"):
        read_members(data, "t.djpkg", lambda n: True, Limits(max_total=5000))
    assert reads == []


def _at_once(call, *args):
    """call(*args) must end (with its refusal) at once; a reader that opened the FIFO would
    block forever, so it runs in a thread the test waits for a while only."""
    import threading

    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call(*args)
            outcome.append(None)
        except BaseException as err:  # handed to the test
            outcome.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), f"{call.__name__} blocked on a file that is no regular file"
    return outcome[0]


def test_the_other_readers_refuse_them_too(specials: dict[str, Path], tmp_path) -> None:
    """The list of expected units, a comments file for a return, a statistics table to add
    and a file holding an ID number are read by their own readers."""
    from desktop.exchange.returns import read_comments
    from desktop.services.packages.review import read_expected

    for path in (specials["fifo.jsonl"], specials["zero.xlsx"], specials["fifo.xlsx"]):
        err = _at_once(read_expected, path)
        assert isinstance(err, UsageError) and "不是普通文件" in str(err), err
    err = _at_once(read_comments, specials["fifo.jsonl"], None, None, "x")
    assert isinstance(err, UsageError) and "不是普通文件" in str(err), err


def test_a_bomb_as_the_list_of_expected_units_is_refused(books) -> None:
    from desktop.services.packages.review import read_expected

    with pytest.raises(UsageError, match="压缩炸弹"):
        read_expected(books["strings-lying"])


def test_a_package_member_that_inflates_past_its_declared_size_is_refused() -> None:
    """zipfile inflates a member no further than its declared size: a stream that goes on
    fails the CRC there, and the package is refused with no more memory taken."""
    import zlib

    body = b"{" + b" " * (64 * MIB) + b"}"
    data = bytearray(_zip([("manifest.json", body)]))
    crc = zlib.crc32(body).to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    data[14:18], data[22:26] = crc, small  # the local header: CRC kept, size made small
    central = data.find(b"PK\x01\x02")
    data[central + 16:central + 20], data[central + 24:central + 28] = crc, small
    with pytest.raises(PackageRefused, match="损坏"):
        _read(bytes(data))
