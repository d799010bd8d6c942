"""Duplicate groups: certain by the normalised ID number, candidates without one, the entry to
keep, and what must never be joined."""

from __future__ import annotations

from desktop.domain.society.cleanup import member_from_values
from desktop.domain.society.dedupe import SAME_ID, find_duplicates, keep_order
from tests.society.conftest import ident, member
from tests.society.legacy import legacy_rows, to15

A = ident("1970-03-15")
B = ident("1980-07-01", 13)


def groups_of(members):
    return {(g.keep.id, tuple(sorted(r.member.id for r in g.removals)))
            for g in find_duplicates(members)}


def test_same_id_number_is_certain_and_15_digits_are_converted():
    values = [{"member_no": "0024-000003", "name": "王伟", "id_number": A},
              {"member_no": "0024-000009", "name": "王伟", "id_number": to15(A)},
              {"member_no": "0024-000012", "name": "王 伟", "id_number": A.lower()}]
    members = [member_from_values(f"r{i}", v) for i, v in enumerate(values)]
    [group] = find_duplicates(members)
    assert group.keep.id == "r0"  # the oldest member number
    assert {r.member.id for r in group.removals} == {"r1", "r2"}
    assert all(r.certain and r.reason == SAME_ID for r in group.removals)
    assert group.certain


def test_candidates_without_an_id_number_by_each_key():
    members = [
        member("k", no="0024-000001", name="李明", idn=A, birth="1970-03-15",
               employer="沈阳市中级人民法院", mobile="13912345678"),
        member("by-birth", no="0024-000002", name="李明", birth="1970-03-15"),
        member("by-employer", no="0024-000003", name="李 明", employer="沈阳市中级人民法院 "),
        member("by-mobile", no="0024-000004", name="李明", mobile="13912345678"),
    ]
    [group] = find_duplicates(members)
    assert group.keep.id == "k"
    reasons = {r.member.id: (r.certain, r.reason) for r in group.removals}
    assert reasons == {"by-birth": (False, "姓名、出生日期相同"),
                       "by-employer": (False, "姓名、工作单位相同"),
                       "by-mobile": (False, "姓名、手机相同")}
    assert not group.certain


def test_employer_spellings_match():
    members = [member("a", name="赵敏", idn=A, employer="辽宁大学（法学院）"),
               member("b", name="赵敏", employer="辽宁大学 法学院")]
    assert groups_of(members) == {("a", ("b",))}


def test_two_different_id_numbers_are_never_joined():
    same_name_birth = [member("a", name="王伟", idn=A, birth="1970-03-15"),
                       member("b", name="王伟", idn=ident("1970-03-15", 31), birth="1970-03-15")]
    assert find_duplicates(same_name_birth) == []


def test_blank_entry_between_two_people_is_not_given_to_either():
    members = [member("a", name="王伟", idn=A, employer="沈阳市司法局"),
               member("b", name="王伟", idn=B, employer="沈阳市司法局"),
               member("c", name="王伟", employer="沈阳市司法局"),
               member("d", name="王伟", employer="沈阳市司法局")]
    # c and d may be one person; neither can be said to be a or b
    assert groups_of(members) == {("c", ("d",))}


def test_a_blank_entry_cannot_chain_two_people_together():
    members = [member("a", name="王伟", idn=A, birth="1970-03-15"),
               member("b", name="王伟", idn=B, employer="沈阳市司法局"),
               member("c", name="王伟", birth="1970-03-15", employer="沈阳市司法局")]
    found = groups_of(members)
    assert len(found) == 1
    [(keep, removed)] = found
    assert keep in ("a", "b") and removed == ("c",)


def test_names_alone_or_empty_keys_do_not_match():
    members = [member("a", name="王伟"), member("b", name="王伟"),
               member("c", name="", birth="1970-03-15"), member("d", name="", birth="1970-03-15"),
               member("e", name="刘洋", mobile="123"), member("f", name="刘洋", mobile="123")]
    assert find_duplicates(members) == []


def test_keep_the_most_complete_then_the_oldest_number():
    members = [member("new", no="0024-000100", idn=A, filled=15),
               member("old", no="0024-000007", idn=A, filled=12),
               member("older", no="0024-000005", idn=A, filled=12)]
    [group] = find_duplicates(members)
    assert group.keep.id == "new"
    members[0] = member("new", no="0024-000100", idn=A, filled=12)
    [group] = find_duplicates(members)
    assert group.keep.id == "older"


def test_an_entry_with_an_id_number_is_kept_over_a_fuller_one_without():
    members = [member("blank", no="0024-000001", name="李明", birth="1970-03-15", filled=20),
               member("with-id", no="0024-000050", name="李明", idn=A, birth="1970-03-15",
                      filled=5)]
    [group] = find_duplicates(members)
    assert group.keep.id == "with-id"


def test_an_entry_already_revoked_carries_the_person():
    members = [member("active", no="0024-000001", idn=A, filled=20),
               member("revoked", no="0024-000009", idn=A, filled=5, status="3")]
    [group] = find_duplicates(members)
    assert group.keep.id == "revoked"
    assert [r.member.id for r in group.removals] == ["active"]


def test_entries_already_removed_take_no_part():
    members = [member("a", idn=A), member("b", idn=A, status="2")]
    assert find_duplicates(members) == []


def test_the_result_does_not_depend_on_the_input_order():
    members = [member(f"m{i}", no=f"0024-{i:06d}", idn=A, filled=10) for i in range(1, 6)]
    assert groups_of(members) == groups_of(list(reversed(members)))
    assert min(members, key=keep_order).id == "m1"


def test_every_planted_copy_of_a_generated_register_is_found():
    rows, truth = legacy_rows(3000, seed=11)
    labels = {"会员证号": "member_no", "姓名": "name", "公民身份号码": "id_number",
              "出生日期": "birth_date", "工作单位": "employer", "手机": "mobile"}
    members = [member_from_values(str(i), {labels[k]: v for k, v in r.items() if k in labels})
               for i, r in enumerate(rows)]
    groups = find_duplicates(members)
    certain = sum(r.certain for g in groups for r in g.removals)
    candidates = sum(not r.certain for g in groups for r in g.removals)
    assert certain == truth.extra_same_id
    # a planted blank copy can only be lost to a namesake at the same employer
    assert truth.extra_without_id * 0.9 <= candidates <= truth.extra_without_id * 1.2


def test_a_birth_known_to_the_month_is_a_candidate_of_that_month():
    """A legacy register's 出生日期 is often "1963年9月" (stored 1963-09, issue 15): it is the
    same birth as any full date of that month, and only of that month; two full dates of one
    month are still two births."""
    members = [member("k", no="0024-000001", name="张华", idn=A, birth="1970-03-15"),
               member("m", no="0024-000002", name="张华", birth="1970-03"),
               member("other-month", no="0024-000003", name="张华", birth="1970-04")]
    [group] = find_duplicates(members)
    assert group.keep.id == "k"
    assert {(r.member.id, r.reason) for r in group.removals} == {("m", "姓名、出生日期相同")}
    two_days = [member("a", name="周强", birth="1970-03-02"),
                member("b", name="周强", birth="1970-03-28")]
    assert find_duplicates(two_days) == []
