"""The vendored CJK font, its licence, and measuring and wrapping text with it."""

from __future__ import annotations

import pytest

from desktop.errors import KnownError
from desktop.paths import resource
from desktop.reports.pdf import fonts as pdf_fonts
from desktop.reports.pdf.fonts import Measure, register_fonts


def test_the_font_ships_with_its_licence():
    folder = resource("fonts")
    assert (folder / "wqy-microhei.ttc").stat().st_size > 4_000_000
    copyright_text = (folder / "wqy-microhei.COPYRIGHT.txt").read_text(encoding="utf-8")
    assert "Apache-2.0 or GPL-3+ with Font exception" in copyright_text
    assert "Apache License" in (folder / "LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in (folder / "LICENSE-GPL-3.0.txt").read_text(
        encoding="utf-8")


def test_the_font_has_chinese_latin_and_digits():
    m = Measure()
    for ch in "登记律师党员0123456789ABCXabcx-（）：":
        assert m.char(ch) > 0.2, ch  # a missing glyph would measure as the notdef box or 0
    assert m.width("1234567890", 10) < m.width("登记登记登记登记登记", 10)


@pytest.mark.parametrize("text", [
    "河北省石家庄市长安区建设北大街某某小区一期二号楼三单元一千二百零一室",
    "北京市某某律师事务所 Beijing Example Law Firm (Special General Partnership) 11010519491231002X",
    "短",
    "",
    "第一行\n第二行很长很长很长很长很长很长很长很长很长很长很长很长很长",
])
def test_wrapped_lines_fit_and_keep_every_character(text):
    m = Measure()
    lines = m.wrap(text, 10, 120)
    assert all(m.width(line, 10) <= 120 + 0.01 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_an_id_number_is_not_split_when_it_fits_on_its_own_line():
    m = Measure()
    lines = m.wrap("身份证号码 11010519491231002X 已核对", 10, 110)
    assert "11010519491231002X" in lines


def test_fit_shrinks_before_it_overflows():
    m = Measure()
    size, lines = m.fit("很长的名称" * 6, 100, 24, 10, 6)
    assert size < 10 and len(lines) * size * 1.2 <= 24
    size, lines = m.fit("很长的名称" * 60, 100, 24, 10, 6)
    assert size == 6 and len(lines) > 3  # at the smallest size the cell grows instead


def test_a_missing_font_file_is_a_clear_error(monkeypatch, tmp_path):
    register_fonts.cache_clear()
    try:
        monkeypatch.setattr(pdf_fonts, "resource", lambda *parts: tmp_path.joinpath(*parts))
        with pytest.raises(KnownError, match="找不到打印字体文件.*重新安装"):
            register_fonts()
        (tmp_path / "fonts").mkdir()
        (tmp_path / "fonts" / "wqy-microhei.ttc").write_bytes(b"not a font")
        with pytest.raises(KnownError, match="无法读取"):
            register_fonts()
    finally:
        monkeypatch.undo()
        register_fonts.cache_clear()
        register_fonts()
