"""A package carries the official workbooks and print PDFs by default; the cover page prints."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from desktop.progress import run
from desktop.services import packages as svc
from desktop.services.packages.files import print_package_cover

from .conftest import CITY
from .formats import open_payload

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_export_carries_workbooks_and_pdfs", "test_cover_of_the_newest_sent_package"}


def test_export_carries_workbooks_and_pdfs(world):
    city = world.register(CITY)
    firm = world.firm(seed=3, members=4)
    world.link(firm.register, city)
    result = run(svc.export_package(firm.register, world.forms, world.folder / "out"))
    inside = open_payload(result.path.read_bytes(), firm.register)  # format 2: encrypted
    names = set(inside)
    for expected in ("xlsx/附件1律师党员基本信息登记表.xlsx", "xlsx/附件3党组织基本信息登记表.xlsx",
                     "xlsx/附件4律师党员基本信息汇总表.xlsx", "xlsx/附件6党组织基本信息汇总表.xlsx",
                     "pdf/附件1律师党员基本信息登记表.pdf", "pdf/附件4律师党员基本信息汇总表.pdf"):
        assert expected in names, sorted(names)
    assert inside["pdf/附件1律师党员基本信息登记表.pdf"].startswith(b"%PDF")
    book = load_workbook(io.BytesIO(inside["xlsx/附件4律师党员基本信息汇总表.xlsx"]))
    assert "附件4" in str(book.active["A1"].value)
    assert set(zipfile.ZipFile(result.path).namelist()) == {"manifest.json", "manifest.sig",
                                                            "payload.enc"}
    # the files are covered by the signature: the city verifies and merges it whole
    world.trust(city, firm.register)
    reports = world.merge(city, result.path)
    assert [r.status for r in reports] == ["merged"], reports


def test_export_without_files(world):
    city = world.register(CITY)
    firm = world.firm(seed=4, members=3)
    world.link(firm.register, city)
    result = run(svc.export_package(firm.register, world.forms, world.folder / "out",
                                    attachments={}))
    names = open_payload(result.path.read_bytes(), firm.register)
    assert names and not any(n.startswith(("xlsx/", "pdf/")) for n in names)


def test_cover_of_the_newest_sent_package(world):
    city = world.register(CITY)
    firm = world.firm(seed=5, members=3)
    world.link(firm.register, city)
    with pytest.raises(Exception, match="没有找到本单位导出的"):
        print_package_cover(firm.register, world.forms)
    result = run(svc.export_package(firm.register, world.forms, world.folder / "out",
                                    attachments={}))
    cover = print_package_cover(firm.register, world.forms, result.package_id[:8])
    assert cover.pdf.startswith(b"%PDF") and cover.pages == 1
