"""`dengji spotcheck` as a city clerk uses it (issue 17): draw a sample, fill the workbook as a
verifier would (cells written with openpyxl into the produced file), record it, print the
report; each bad input gets a clear message and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from desktop.storage import crypto
from desktop.storage.tables import SpotItem
from tests.exchange.conftest import CITY, PASSPHRASE, World
from tests.services.test_spotcheck import accept_firms, fill


@pytest.fixture
def city(upper_world: World, dengji, monkeypatch):
    """A city register, on each store, that accepted two firms' packages (the firms' own
    registers are files: the commands here work on the city's)."""
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    # the cost the `dengji` fixture gives the command: it opens the register without re-keying
    reg = upper_world.register(CITY, "city.dengji", kdf=crypto.DEFAULT_KDF)
    accept_firms(upper_world, reg, ((31, 3), (32, 4)))
    return reg


def results(reg) -> list[str | None]:
    with reg.session() as session:
        return list(session.execute(select(SpotItem.result).order_by(SpotItem.id)).scalars())


def test_draw_fill_record_report(city, dengji, tmp_path: Path) -> None:
    book = tmp_path / "抽查表.xlsx"
    run = dengji("spotcheck", "sample", "--db", city.path, "--rate", "20%", "--seed",
                 "CLI-SEED-1", "--out", book)
    assert run.code == 0, run.err
    # 9 accepted records (3+4 members and two 附件3): ceil(1.8) = 2, one per unit
    assert "抽取 2 条（20%）" in run.out and "随机种子：CLI-SEED-1" in run.out
    assert book.is_file()
    again = dengji("spotcheck", "sample", "--db", city.path, "--size", "2", "--seed",
                   "CLI-SEED-1", "--out", tmp_path / "again.xlsx")
    assert again.code == 0
    listed = dengji("spotcheck", "list", "--db", city.path)
    assert listed.out.count("种子 CLI-SEED-1") == 2
    # each row's code is the record's printed page's code: archive-check finds it 一致
    wb = openpyxl.load_workbook(book)
    codes = []
    for ws in wb.worksheets:
        if ws.title not in ("说明", "抽查标识"):
            column = [h.value for h in ws[3]].index("记录码") + 1
            codes += [ws.cell(r, column).value for r in range(4, ws.max_row + 1)]
    assert len(codes) == 2
    for code in codes:
        same = dengji("archive-check", "--db", city.path, "--qr", code)
        assert same.code == 0 and same.out.startswith("一致"), same.err

    filled = fill(book, tmp_path / "filled.xlsx", lambda row: ("不实", "学历与档案不符"))
    run = dengji("spotcheck", "record", "--db", city.path, filled)
    assert run.code == 0, run.out + run.err
    assert "核验结果 2 条（属实 0 条，不实 2 条，无法核实 0 条）" in run.err
    assert results(city)[:2] == ["不实", "不实"]

    sample_id = run.err.split("样本 ")[1].split(" ")[0]
    pdf = tmp_path / "抽查报告.pdf"
    run = dengji("spotcheck", "report", "--db", city.path, "--sample", sample_id, "--out", pdf)
    assert run.code == 0, run.err
    assert "不实 2 条" in run.out and "不实率 100.0%" in run.out
    assert pdf.read_bytes().startswith(b"%PDF")
    xlsx = tmp_path / "抽查报告.xlsx"
    assert dengji("spotcheck", "report", "--db", city.path, "--sample", sample_id,
                  "--out", xlsx).code == 0
    ws = openpyxl.load_workbook(xlsx).active
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "CLI-SEED-1" in " ".join(texts) and "书记" in texts and "签名公钥指纹" in texts


def test_a_bad_request_changes_nothing(city, dengji, tmp_path) -> None:
    # one city for the three requests (each store's city costs a merge): none draws anything
    for argv, words in ((("--size", "0"), "样本量应为正整数"),
                        (("--rate", "0%"), "抽样比例"),
                        (("--rate", "5%", "--seed", "种子"), "随机种子")):
        out = tmp_path / "x.xlsx"
        run = dengji("spotcheck", "sample", "--db", city.path, *argv, "--out", out)
        assert run.code == 2 and words in run.err, (argv, run.err)
        assert not out.exists() and results(city) == []
    assert "还没有抽取过样本" in dengji("spotcheck", "list", "--db", city.path).out


def test_bad_workbooks_are_refused_cell_by_cell(city, dengji, tmp_path) -> None:
    book = tmp_path / "抽查表.xlsx"
    assert dengji("spotcheck", "sample", "--db", city.path, "--size", "3", "--out",
                  book).code == 0
    for kw, cell_words in (({"verdict": lambda row: ("不实", None)}, "须在“说明”列写明"),
                           ({"when": "2026-13-40"}, "不是日期"),
                           ({"verdict": lambda row: ("差不多", None)}, "应为 属实")):
        bad = fill(book, tmp_path / "bad.xlsx", **kw)
        run = dengji("spotcheck", "record", "--db", city.path, bad, "--format", "json")
        assert run.code == 1 and "未导入任何结果" in run.err
        findings = json.loads(run.out)
        assert findings and all(f["severity"] == "E" for f in findings)
        assert all(cell_words in f["message"] for f in findings)
        assert all(f["cell"].startswith("附件") for f in findings)
        assert results(city) == [None] * 3
    # a row of a record not in the sample
    wb = openpyxl.load_workbook(fill(book, tmp_path / "ok.xlsx"))
    ws = wb["附件1"]
    ws.cell(4, [c.value for c in ws[3]].index("记录编号") + 1).value = "not-a-sampled-record"
    wb.save(tmp_path / "extra.xlsx")
    run = dengji("spotcheck", "record", "--db", city.path, tmp_path / "extra.xlsx")
    assert run.code == 1 and "不在本样本中" in run.out and results(city) == [None] * 3
    # a workbook that is no workbook
    (tmp_path / "x.xlsx").write_text("不是表格")
    run = dengji("spotcheck", "record", "--db", city.path, tmp_path / "x.xlsx")
    assert run.code == 2 and "x.xlsx" in run.err


def test_a_report_before_any_sample_says_so(city, dengji, tmp_path) -> None:
    run = dengji("spotcheck", "report", "--db", city.path, "--out", tmp_path / "r.pdf")
    assert run.code != 0 and "还没有抽取过样本" in run.err
    assert not (tmp_path / "r.pdf").exists()
