"""Tools the PDF tests read their PDFs with — poppler-utils (pdftotext, pdffonts, pdfinfo,
pdftoppm) and zbar-tools (zbarimg) — and tests of those readers themselves.

A test that needs a missing tool is skipped with the Debian package to install.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

POPPLER = "poppler-utils"
ZBAR = "zbar-tools"


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} 不可用：请安装 Debian 软件包 {package}（apt-get install {package}）")
    return path


def _save(pdf: bytes, folder: Path) -> Path:
    path = folder / f"{uuid.uuid4().hex[:8]}.pdf"
    path.write_bytes(pdf)
    return path


def pdf_text(pdf: bytes, folder: Path, page: int | None = None) -> str:
    """pdftotext -raw (content-stream order, so wrapped cells read in order) of the whole
    document or one page."""
    args = [need("pdftotext", POPPLER), "-raw"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(_save(pdf, folder)), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def squeeze(text: str) -> str:
    """Text without any white space (labels and values split across columns compare whole)."""
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class FontRow:
    name: str
    type: str
    embedded: bool
    subset: bool


def pdf_fonts(pdf: bytes, folder: Path) -> list[FontRow]:
    out = subprocess.run([need("pdffonts", POPPLER), str(_save(pdf, folder))],
                         capture_output=True, check=True).stdout.decode()
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type [type2] encoding emb sub uni object ID
        emb, sub = parts[-5], parts[-4]
        rows.append(FontRow(parts[0], parts[1], emb == "yes", sub == "yes"))
    return rows


def pdf_info(pdf: bytes, folder: Path) -> dict[str, str]:
    out = subprocess.run([need("pdfinfo", POPPLER), str(_save(pdf, folder))],
                         capture_output=True, check=True).stdout.decode()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def page_count(pdf: bytes, folder: Path) -> int:
    return int(pdf_info(pdf, folder)["Pages"])


def page_size(pdf: bytes, folder: Path) -> tuple[float, float]:
    m = re.match(r"([\d.]+) x ([\d.]+) pts", pdf_info(pdf, folder)["Page size"])
    assert m, "pdfinfo gives no page size"
    return float(m[1]), float(m[2])


def decode_qr(pdf: bytes, folder: Path, *, dpi: int = 100) -> list[str]:
    """Render every page (pdftoppm) and decode its QR codes (zbarimg), in page order."""
    pdftoppm = need("pdftoppm", POPPLER)
    zbarimg = need("zbarimg", ZBAR)
    stem = folder / uuid.uuid4().hex[:8]
    subprocess.run([pdftoppm, "-png", "-r", str(dpi), str(_save(pdf, folder)), str(stem)],
                   check=True, capture_output=True)
    codes = []
    for png in sorted(folder.glob(f"{stem.name}-*.png"), key=lambda p: int(p.stem.rsplit("-")[-1])):
        out = subprocess.run([zbarimg, "-q", "--raw", str(png)], capture_output=True)
        codes += out.stdout.decode().split()
    return codes


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    page: int


def words(pdf: bytes, folder: Path) -> list[Word]:
    """Every word with its box in points, top-down (pdftotext -bbox)."""
    out = subprocess.run([need("pdftotext", POPPLER), "-bbox", str(_save(pdf, folder)), "-"],
                         capture_output=True, check=True).stdout.decode()
    found, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>',
                      line)
        if m:
            found.append(Word(m[5], float(m[1]), float(m[2]), float(m[3]), float(m[4]), page))
    return found


# --- the readers themselves -----------------------------------------------------------------


def _blank_pdf() -> bytes:
    import io

    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf)
    canvas.drawString(100, 700, "hello 123")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def test_a_page_without_a_qr_code_decodes_to_nothing(tmp_path):
    assert decode_qr(_blank_pdf(), tmp_path) == []


def test_the_text_reader_sees_latin_text_and_the_page_count(tmp_path):
    pdf = _blank_pdf()
    assert "hello 123" in pdf_text(pdf, tmp_path)
    assert page_count(pdf, tmp_path) == 1
    assert [w.text for w in words(pdf, tmp_path)] == ["hello", "123"]
    # reportlab's standard Helvetica is not embedded: the check in the real tests can fail
    assert [f.embedded for f in pdf_fonts(pdf, tmp_path)] == [False]
