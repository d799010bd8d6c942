"""dengji cleanup restore (issue 16): a mistaken cleanup decision is reversed by a new decision
that puts the member back in the register, audited with the status it reverses; and dengji stats
fills 填报人 and 联系方式 from 本单位信息 when the options leave them out."""

from __future__ import annotations

from tests.conftest import PASSPHRASE
from tests.society.conftest import audit_entries, by_no

BOTH_STORES = True  # tests/society/conftest.py: on a register file and on PostgreSQL


def test_restore_a_member_moved_out_by_mistake(dengji, moved_out) -> None:
    [zhao] = by_no(moved_out)["0024-000003"]
    assert zhao["status"] == "5"
    # the reason is required
    result = dengji("cleanup", "restore", "--db", moved_out, "--member-no", "0024-000003",
                    "--handler", "王敏", "--basis", " ")
    assert result.code != 0 and "依据" in result.err
    result = dengji("cleanup", "restore", "--db", moved_out, "--member-no", "0024-000003",
                    "--handler", "王敏", "--approver", "张会长",
                    "--basis", "经核实，身份证号已在纸质档案中")
    assert result.code == 0, result.err
    assert "赵敏" in result.out and "暂时移出-无身份证号" in result.out and "恢复为在册" in result.out
    [zhao] = by_no(moved_out)["0024-000003"]
    assert zhao["status"] == "1" and zhao["handler"] == "王敏" and "纸质档案" in zhao["basis"]
    actor, action, detail = audit_entries(moved_out)[-1]
    assert (actor, action) == ("王敏", "society.restore")
    assert "5" in str(detail) and "纸质档案" in str(detail)
    # a member in the register is not restored again; nothing else changed
    again = dengji("cleanup", "restore", "--db", moved_out, "--member-no", "0024-000003",
                   "--handler", "王敏", "--basis", "再来一次")
    assert again.code != 0 and "无需恢复" in again.err
    assert by_no(moved_out)["0024-000007"][0]["status"] == "5"
    # an unknown number is said so
    missing = dengji("cleanup", "restore", "--db", moved_out, "--member-no", "0024-999999",
                     "--handler", "王敏", "--basis", "误")
    assert missing.code != 0 and "不在会员登记库中" in missing.err


def test_stats_takes_filler_and_contact_from_the_unit_profile(dengji, moved_out) -> None:
    from desktop.services.unit import save_unit_profile
    from desktop.storage import open_register

    with open_register(moved_out, PASSPHRASE) as reg:
        save_unit_profile(reg, "王敏", {"filler": "王填报", "phone": "024-12345678"})
    table = dengji("stats", "--db", moved_out, "--format", "json").json()
    assert (table["填报人"], table["联系方式"]) == ("王填报", "024-12345678")
    given = dengji("stats", "--db", moved_out, "--format", "json", "--filler", "李另填").json()
    assert (given["填报人"], given["联系方式"]) == ("李另填", "024-12345678")
