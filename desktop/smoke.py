"""`dengji --smoke-test`: prove an installation works end to end without touching user data.

Creates a temporary register, loads every form, validates and imports generated records,
writes one workbook and one PDF, checks what was written, and removes it all again. Used by
the test suite, by CI from the source tree, and by `make bundle` on the frozen application.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

from desktop.storage import KdfParams

#: a cheap key derivation: the smoke register lives for a second in a temporary folder
_SMOKE_KDF = KdfParams(n=2**10, r=8, p=1)


def run_smoke_test(out=sys.stdout) -> int:
    from desktop import sampledata as sd
    from desktop.formspec import shipped_forms
    from desktop.progress import run
    from desktop.services.intake.importing import import_file
    from desktop.services.printing import print_records, write_pdf
    from desktop.services.registers import init_register

    forms = shipped_forms()
    out.write(f"表单：{'、'.join(f.display_title for f in forms.forms.values())}\n")
    rng = random.Random(2026)
    firm = sd.firms(rng, 1)[0]
    members = [sd.lawyer_member(rng, firm) for _ in range(4)]
    with tempfile.TemporaryDirectory(prefix="dengji-smoke-") as tmp:
        folder = Path(tmp)
        for name, rows in (("a3.jsonl", [sd.party_org(firm, members)]), ("a1.jsonl", members)):
            (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                               for r in rows), encoding="utf-8")
        with init_register(folder / "smoke.dengji", "smoke-test-passphrase", level="firm",
                           unit_name="自检律师事务所党支部", unit_code=firm.uscc,
                           kdf=_SMOKE_KDF) as reg:
            for form_id, name in (("party_org", "a3.jsonl"), ("lawyer_member", "a1.jsonl")):
                result = run(import_file(reg, forms, forms.form(form_id), folder / name))
                if result.imported != 1 and form_id == "party_org" or result.refused:
                    out.write(f"自检失败：{name} 未能导入\n")
                    return 1
            out.write(f"登记库：已校验并导入 {len(members) + 1} 条记录\n")
            pdf = folder / "附件1.pdf"
            write_pdf(pdf, run(print_records(reg, forms, "lawyer_member")))
            if not pdf.read_bytes().startswith(b"%PDF"):
                out.write("自检失败：PDF 文件无效\n")
                return 1
            pages = _render_first_page(pdf)
            out.write(f"PDF：{pdf.stat().st_size} 字节，{pages} 页，预览可显示\n")
            workbook = folder / "附件4.xlsx"
            _write_workbook(reg, forms, workbook)
            out.write(f"Excel：{workbook.stat().st_size} 字节\n")
    out.write("自检通过。\n")
    return 0


def _write_workbook(reg, forms, path: Path) -> None:
    from openpyxl import load_workbook

    from desktop.progress import run
    from desktop.services.exporting import export_excel

    run(export_excel(reg, forms, "lawyer_summary", path))
    book = load_workbook(path, read_only=True)
    try:
        if not book.sheetnames:
            raise RuntimeError("workbook has no sheet")
    finally:
        book.close()


def _render_first_page(pdf: Path) -> int:
    """Render the first page as the print preview does (PDFium): proves the bundle carries it.
    Returns the page count."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        bitmap = doc[0].render(scale=0.5)
        if bitmap.width <= 0 or bitmap.height <= 0:
            raise RuntimeError("PDFium rendered an empty page")
        bitmap.close()
        return len(doc)
    finally:
        doc.close()
