"""The verification workbook's printed texts and record codes (services/spotcheck/printed.py)
are those of the record's printed page (reports/pdf/content.printed_record), for every shipped
form, with values of every kind a register may hold: empty, codes, dates, groups, masked
identifiers, text that looks like markup or a formula, values of a renamed field."""

from __future__ import annotations

import dataclasses
import random
import uuid

from desktop.formspec import shipped_forms
from desktop.reports.pdf.content import printed_record
from desktop.services.spotcheck.printed import FormPrinter

FORMS = shipped_forms()
ODD = ("", " 前后空格 ", "=1+1", "<b>&amp;</b>", "第一行\n第二行", "／", "x" * 300, "\x01控制")


def _value(spec, rng: random.Random):
    if rng.random() < 0.15:
        return None
    if spec.type == "group":
        return [{sub.id: _value(sub, rng) for sub in spec.fields}
                for _ in range(rng.randint(0, 3))] if rng.random() < 0.9 else "not rows"
    if spec.codes is not None and spec.codes.codes and rng.random() < 0.8:
        return rng.choice(spec.codes.codes).code
    if spec.type in ("date",):
        return rng.choice(("1975-03-09", "2001-12-31", "1990-01"))
    if spec.type == "yearmonth":
        return "2019-07"
    if spec.type == "bool":
        return rng.choice((True, False))
    if spec.type == "int":
        return rng.randint(0, 500)
    if spec.type == "id_number":
        return rng.choice(("11010519491231002X", "110105194912310021"))
    if spec.type in ("mobile", "landline", "phone"):
        return rng.choice(("13800138000", "010-12345678"))
    return rng.choice(ODD)


def _same(form, record_id, values) -> None:
    texts, digest = FormPrinter(form).print(record_id, values)
    page = printed_record(form, record_id, values, masked=True)
    fields = [f for s in page.sections for f in s.fields]
    assert digest == page.digest
    assert FormPrinter(form).labels == tuple(f.label for f in fields)
    assert texts == tuple("\n".join("／".join(r) for r in f.rows) if f.columns else f.text
                          for f in fields)


def test_every_shipped_form_prints_the_same_texts_and_code_as_its_page():
    rng = random.Random(17)
    assert len(FORMS.forms) >= 4
    for form in FORMS.forms.values():
        for _ in range(60):
            values = {spec.id: _value(spec, rng) for spec in form.fields}
            _same(form, str(uuid.UUID(int=rng.getrandbits(128))), values)
        _same(form, str(uuid.uuid4()), {})  # nothing stored at all


def test_a_renamed_field_and_fields_of_sections_the_form_does_not_list():
    form = FORMS.form("lawyer_member")
    fields = list(form.fields)
    # a field renamed (its value stored under the old id) and two fields moved to sections
    # the form does not list, interleaved: the page puts them last, grouped by section
    fields[0] = dataclasses.replace(fields[0], renamed_from=("old_name",))
    fields[2] = dataclasses.replace(fields[2], section="unlisted_b")
    fields[5] = dataclasses.replace(fields[5], section=None)
    fields[7] = dataclasses.replace(fields[7], section="unlisted_b")
    odd = dataclasses.replace(form, fields=tuple(fields))
    values = {"old_name": "张三", fields[2].id: "x", fields[5].id: "y", fields[7].id: "z"}
    _same(odd, str(uuid.uuid4()), values)
    texts, _ = FormPrinter(odd).print("r", values)
    assert texts[0] == "张三"
    assert values == {"old_name": "张三", fields[2].id: "x", fields[5].id: "y",
                      fields[7].id: "z"}  # the stored values are not changed


def test_a_large_sample_printed_half_on_another_process_is_printed_as_here():
    import json

    from desktop.services.spotcheck.printed import print_rows

    rng = random.Random(5)
    printers = {f.id: FormPrinter(f) for f in FORMS.forms.values()}
    rows = []
    for i in range(301):
        form = rng.choice(list(FORMS.forms.values()))
        values = {spec.id: _value(spec, rng) for spec in form.fields}
        rows.append((f"0190a1b2-c3d4-7e5f-8a9b-{i:012d}", form.id, json.dumps(values)))
    here = print_rows(printers, rows, parallel=False)
    assert print_rows(printers, rows, parallel=True) == here
    assert here == [printers[f].print(rid, json.loads(data)) for rid, f, data in rows]
