"""What the conflict view shows of a record: every field as a clerk reads it, ID numbers and
phones masked."""

from __future__ import annotations

from desktop.formspec import shipped_forms
from desktop.services.packages.records import RecordView, shown_values


def test_ids_and_phones_are_masked_and_codes_are_labels() -> None:
    forms = shipped_forms()
    view = RecordView("r1", "lawyer_member", "张三", "已提交", "某所", None, {
        "name": "张三", "id_number": "11010519491231002X", "mobile": "13800138000",
        "sex": "1"})
    shown = dict(shown_values(forms, view))
    assert shown["姓名"] == "张三"
    assert shown["公民身份号码"] != "11010519491231002X" and "*" in shown["公民身份号码"]
    assert shown["手机号码"] != "13800138000" and "*" in shown["手机号码"]
    assert shown["性别"] == "男"
    assert shown["学历"] == ""
