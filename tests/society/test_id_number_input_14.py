"""No ID number on a command line (issue 14): command lines are visible to other users and kept
in shell history, so `cleanup readmit` takes the number from a prompt, standard input
(`--id-number -`) or a file (`--id-number-file`), and refuses one written on the line."""

from __future__ import annotations

import io
import sys

import pytest

from tests.conftest import assert_no_crash
from tests.society.conftest import by_no, ident

ZHAO = ident("1968-09-09", 24)


def readmit(dengji, db, *extra):
    result = dengji("cleanup", "readmit", "--db", db, "--handler", "王敏", "--member-no",
                    "0024-000003", "--agreed", *extra)
    assert_no_crash(result)
    return result


def stored_id(db):
    return by_no(db)["0024-000003"][0].get("id_number")


def test_a_number_on_the_command_line_is_refused(dengji, moved_out):
    result = readmit(dengji, moved_out, "--id-number", ZHAO)
    assert result.code == 2 and "不能直接写在命令行上" in result.err and "--id-number-file" in result.err
    assert ZHAO not in result.err and stored_id(moved_out) is None


def test_the_number_from_standard_input(dengji, moved_out, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(ZHAO + "\n"))
    assert readmit(dengji, moved_out, "--id-number", "-").code == 0
    assert stored_id(moved_out) == ZHAO


def test_the_number_from_a_file(dengji, moved_out, tmp_path):
    path = tmp_path / "号码.txt"
    path.write_text("\ufeff" + ZHAO + "\r\n", encoding="utf-8")
    assert readmit(dengji, moved_out, "--id-number-file", path).code == 0
    assert stored_id(moved_out) == ZHAO


@pytest.mark.parametrize("content", ["", "\n\n", f"{ZHAO}\n{ZHAO}\n", "1" * 5000])
def test_a_file_of_anything_but_one_number_is_refused(dengji, moved_out, tmp_path, content):
    path = tmp_path / "号码.txt"
    path.write_text(content, encoding="utf-8")
    result = readmit(dengji, moved_out, "--id-number-file", path)
    assert result.code == 2 and "应只有一行" in result.err and stored_id(moved_out) is None


def test_without_a_terminal_the_number_is_asked_for_plainly(dengji, moved_out, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    result = readmit(dengji, moved_out)
    assert result.code == 2 and "--id-number -" in result.err


def test_no_command_takes_a_member_number_as_a_plain_option():
    """Every option of every command whose name says ID number goes through
    add_secret_option (its -file twin exists)."""
    from desktop.cli import build_parser

    def walk(parser):
        for action in parser._actions:
            yield parser, action
            for sub in getattr(action, "choices", None) or {}:
                child = action.choices[sub] if isinstance(action.choices, dict) else None
                if child is not None and hasattr(child, "_actions"):
                    yield from walk(child)

    seen = []
    for parser, action in walk(build_parser()):
        for opt in action.option_strings:
            if any(w in opt for w in ("id-number", "idnumber", "id-card", "身份证")):
                if not opt.endswith("-file"):
                    seen.append(opt)
                    assert f"{opt}-file" in parser._option_string_actions, opt
    assert seen == ["--id-number"]
