"""Weak passphrases are refused wherever one is set (services.registers.judge_passphrase, used
by `dengji init` and the first-run dialog), with a Chinese reason and advice."""

from __future__ import annotations

import re

import pytest

from desktop.errors import KnownError
from desktop.services.registers import (
    GENERIC_ADVICE,
    init_register,
    judge_passphrase,
    passphrase_problem,
)
from tests.services.conftest import server_tables
from tests.stores import is_server

UNIT = "北京市朝阳区某某律师事务所党支部"
CODE = "31110000MD01234564"
FAST = {"n": 2**10, "r": 8, "p": 1}

WEAK = {
    "short": ["abc", "Ab1!", "七个汉字的口令"],
    "digits": ["12345678", "20261231998877", "3141592653589793238"],
    "common": ["password1", "iloveyou", "Password123", "admin12345"],
    "keyboard": ["qwertyuiop", "1qaz2wsx3edc", "asdfghjkl;", "zxcvbnm123"],
    "unit": [UNIT, f"{UNIT}2026", f"{CODE}!", f"我们是{UNIT}", CODE.lower() + "x"],
    "repeats": ["aaaaaaaaaaaa", "abcabcabcabc", "abcdefgh"],
}
STRONG = ["测试口令 Correct-Horse-7", "我家门前有两棵枣树，一棵也是枣树", "律所登记Secret-2026!",
          "purple-otter-cabinet-91", "Long-enough-2026"]


def _chinese(text: str) -> bool:
    """Chinese, with no English sentence of zxcvbn's left in it."""
    plain = re.sub(r"“[^”]*”", "", text)  # quoted examples ("abc") may be Latin
    return bool(re.search(r"[\u4e00-\u9fff]", plain)) and not re.search(r"[A-Za-z]{4,}", plain)


@pytest.mark.parametrize("kind,passphrase", [(k, p) for k, ps in WEAK.items() for p in ps])
def test_weak_passphrases_are_refused_in_chinese(kind: str, passphrase: str) -> None:
    verdict = judge_passphrase(passphrase, UNIT, CODE)
    assert not verdict.ok, (kind, passphrase, verdict)
    message = passphrase_problem(passphrase, UNIT, CODE)
    assert message and _chinese(message), message
    assert "建议" in message
    if kind == "short":
        assert "太短" in message
    if kind == "digits":
        assert "数字" in message
    if kind == "unit":
        assert "单位" in message


@pytest.mark.parametrize("passphrase", STRONG)
def test_strong_passphrases_pass(passphrase: str) -> None:
    assert judge_passphrase(passphrase, UNIT, CODE).ok
    assert passphrase_problem(passphrase, UNIT, CODE) is None


def test_a_short_unit_code_does_not_refuse_every_passphrase_that_holds_it() -> None:
    assert judge_passphrase("测试口令 Correct-Horse-1", "甲", "1").ok


def test_unknown_zxcvbn_feedback_falls_back_to_a_chinese_sentence(monkeypatch) -> None:
    import zxcvbn

    def fake(text, user_inputs=()):
        return {"score": 1, "sequence": [],
                "feedback": {"warning": "Some new English warning.",
                             "suggestions": ["Some new English suggestion."]}}

    monkeypatch.setattr(zxcvbn, "zxcvbn", fake)
    message = passphrase_problem("whatever-long-enough", UNIT, CODE)
    assert "English" not in message and GENERIC_ADVICE in message and "太弱" in message


def test_init_register_refuses_a_weak_passphrase_and_writes_nothing(store, tmp_path) -> None:
    """On a file and in an empty PostgreSQL database (`store`, tests/services/conftest.py)."""
    from desktop.storage import KdfParams

    with pytest.raises(KnownError, match="单位的名称或代码"):
        init_register(store, f"{UNIT}-2026", level="firm", unit_name=UNIT, unit_code=CODE,
                      kdf=KdfParams(**FAST))
    assert list(tmp_path.iterdir()) == []
    if is_server(store):
        assert server_tables(store) == []


@pytest.mark.parametrize("weak", ["12345678", "qwertyuiop", UNIT + "1"])
def test_cli_init_refuses_weak_passphrases(dengji, monkeypatch, tmp_path, weak: str) -> None:
    monkeypatch.setenv("DENGJI_PASSPHRASE", weak)
    db = tmp_path / "weak.dengji"
    result = dengji("init", "--db", db, "--level", "firm", "--unit-name", UNIT,
                    "--unit-code", CODE)
    assert result.code == 1, result
    assert "口令" in result.err and "建议" in result.err
    assert not db.exists()
