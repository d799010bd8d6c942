"""Creating and opening registers (the use cases behind `dengji init` and the login dialog)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop.domain.forms import CodeTable
from desktop.domain.levels import LEVEL_NAMES, LEVELS  # noqa: F401 (LEVEL_NAMES re-exported)
from desktop.domain.units import unit_code_problem
from desktop.errors import KnownError, UsageError
from desktop.paths import private_dir
from desktop.storage import KdfParams, Register, UnitInfo, create_register
from desktop.storage.server import ServerLocation

MIN_PASSPHRASE = 8
#: zxcvbn's score (0–4) a passphrase needs: 3 means about 10^8 guesses or more
MIN_SCORE = 3

# zxcvbn's English feedback, said in Chinese. A sentence not listed here (a newer zxcvbn) is
# replaced by GENERIC_ADVICE rather than shown in English.
_WARNINGS_ZH = {
    "Straight rows of keys are easy to guess.": "键盘上连成一排的按键很容易被猜到",
    "Short keyboard patterns are easy to guess.": "键盘上相邻按键组成的短序列很容易被猜到",
    'Repeats like "aaa" are easy to guess.': "“aaa”这样的重复字符很容易被猜到",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "“abcabcabc”这样的重复并不比“abc”难猜多少",
    'Sequences like "abc" or "6543" are easy to guess.': "“abc”“6543”这样的顺序字符很容易被猜到",
    "Recent years are easy to guess.": "最近的年份很容易被猜到",
    "Dates are often easy to guess.": "日期很容易被猜到",
    "This is a top-10 common password.": "这是最常用的 10 个口令之一",
    "This is a top-100 common password.": "这是最常用的 100 个口令之一",
    "This is a very common password.": "这是非常常用的口令",
    "This is similar to a commonly used password.": "这与常用口令非常相似",
    "A word by itself is easy to guess.": "单个词语很容易被猜到",
    "Names and surnames by themselves are easy to guess.": "单独的姓名很容易被猜到",
    "Common names and surnames are easy to guess.": "常见的姓名很容易被猜到",
}
_SUGGESTIONS_ZH = {
    "Use a few words, avoid common phrases.": "用几个词语组成一句话，避免常见短语",
    "No need for symbols, digits, or uppercase letters.": "不必非要用符号、数字或大写字母",
    "Add another word or two. Uncommon words are better.": "再加一两个词语，不常见的词更好",
    "Use a longer keyboard pattern with more turns.": "不要使用键盘上的按键序列",
    "Avoid repeated words and characters.": "避免重复的词语和字符",
    "Avoid sequences.": "避免顺序字符（如 abc、123）",
    "Avoid recent years.": "避免使用最近的年份",
    "Avoid years that are associated with you.": "避免使用与自己有关的年份",
    "Avoid dates and years that are associated with you.": "避免使用与自己有关的日期和年份",
    "Capitalization doesn't help very much.": "只把首字母大写帮助不大",
    "All-uppercase is almost as easy to guess as all-lowercase.": "全部大写和全部小写一样容易被猜到",
    "Reversed words aren't much harder to guess.": "把词语倒过来写并不更难猜",
    "Predictable substitutions like '@' instead of 'a' don't help very much.":
        "用“@”代替“a”这类替换帮助不大",
}
GENERIC_ADVICE = "请用一句只有自己知道、别人猜不到的话（可以用汉字），不要用姓名、单位名称、生日或常用词"


@dataclass(frozen=True)
class PassphraseVerdict:
    """How strong a passphrase is: zxcvbn's score (0–4) and, when it is refused, why in
    Chinese (`problem`) and what to do (`advice`)."""

    score: int
    problem: str | None
    advice: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def judge_passphrase(passphrase: str, unit_name: str = "", unit_code: str = ""
                     ) -> PassphraseVerdict:
    """The one decision on a new passphrase (init, the first-run dialog, any later change):
    zxcvbn's estimate with the unit's name and code as words an attacker knows, plus two
    plain rules it does not make (a minimum length; not digits only)."""
    from zxcvbn import zxcvbn  # imported when a passphrase is set, not by every command

    text = passphrase or ""
    known = [w.strip() for w in (unit_name, unit_code) if w and w.strip()]
    # zxcvbn is slow on long inputs and scores far below its length anyway
    result = zxcvbn(text[:100], user_inputs=known) if text else None
    score = result["score"] if result else 0
    feedback = result["feedback"] if result else {"warning": "", "suggestions": []}
    advice = "；".join(dict.fromkeys(_SUGGESTIONS_ZH.get(s, GENERIC_ADVICE)
                                     for s in feedback["suggestions"])) or GENERIC_ADVICE
    if len(text) < MIN_PASSPHRASE:
        return PassphraseVerdict(score, f"口令太短：口令至少需要 {MIN_PASSPHRASE} 个字符", advice)
    if text.isdigit():
        return PassphraseVerdict(score, "口令不能全是数字：纯数字很容易被试出来", advice)
    lowered = text.casefold()
    # a short code ("1") or name would refuse half of all passphrases; zxcvbn still counts it
    if any(len(w) >= 3 and w.casefold() in lowered for w in known):
        return PassphraseVerdict(score, "口令不能包含本单位的名称或代码：别人很容易想到", advice)
    if score < MIN_SCORE:
        why = feedback["warning"]
        reason = _WARNINGS_ZH.get(why, "容易被猜到") if why else "容易被猜到"
        return PassphraseVerdict(score, f"口令太弱：{reason}", advice)
    return PassphraseVerdict(score, None)


def passphrase_problem(passphrase: str, unit_name: str = "", unit_code: str = "") -> str | None:
    """Why `passphrase` is refused, with what to do, in Chinese; None when it is strong enough."""
    verdict = judge_passphrase(passphrase, unit_name, unit_code)
    if verdict.ok:
        return None
    return f"{verdict.problem}。建议：{verdict.advice}。"


def init_register(path: Path, passphrase: str, *, level: str, unit_name: str, unit_code: str,
                  parent_code: str | None = None, kdf: KdfParams | None = None,
                  tables: Mapping[str, CodeTable] | None = None) -> Register:
    """Make a new register for the unit. With the code `tables` (regions, societies: `dengji
    init` and the first-run dialog give them), the unit code must fit its level
    (domain/units.unit_code_problem); a wrong one is refused with the reason."""
    if level not in LEVELS:
        raise UsageError(f"未知的层级“{level}”；可选：{', '.join(LEVELS)}")
    if not unit_name.strip():
        raise UsageError("单位名称不能为空")
    if not unit_code.strip():
        raise UsageError("单位代码不能为空")
    if tables is not None:
        problem = unit_code_problem(level, unit_code, tables)
        if problem:
            raise KnownError(f"本单位代码不符合要求：{problem}")
    problem = passphrase_problem(passphrase, unit_name, unit_code)
    if problem:
        raise KnownError(problem)
    return create_register(path, passphrase, UnitInfo(unit_code.strip(), unit_name.strip(), level,
                                                      (parent_code or "").strip() or None),
                           kdf=kdf)


#: wrong passphrases allowed before the window makes the user wait, and the longest wait
FREE_TRIES, MAX_WAIT = 3, 30.0
TRIES_SUFFIX = ".tries"
TRIES_FOLDER = "口令尝试"  # a server register's count, in the user data folder
_tries: dict[str, tuple[int, float]] = {}  # resolved register path -> (failures, wait until)


def tries_file(location: Path | ServerLocation) -> Path:
    """Where the count of wrong passphrases of a register is kept: beside a register file;
    for a register on a server (no folder of its own) in the owner-only user data folder,
    named by a hash of its URL (which holds no password: ServerLocation refuses one), so each
    server register has its own count and the file names no host or database."""
    if isinstance(location, ServerLocation):
        name = hashlib.sha256(location.url.encode("utf-8")).hexdigest()[:32]
        return private_dir(TRIES_FOLDER) / f"{name}{TRIES_SUFFIX}"
    path = Path(location)
    return path.with_name(path.name + TRIES_SUFFIX)


class PassphraseTries:
    """Wrong passphrases typed for one register, and how long the window waits before taking
    the next: nothing for the first FREE_TRIES, then 2^(n−3) seconds after the n-th in a row,
    at most MAX_WAIT. Kept in the process and in a small side file beside the register
    (`<register>.tries`; a server register's in the user data folder, `tries_file`), so
    that closing the dialog or the program does not reset it; the
    side file is a courtesy against guessing at the keyboard, not a lock (the file's real
    protection is scrypt). `clock` is the wall clock (seconds), replaceable in tests."""

    def __init__(self, path: Path | ServerLocation,
                 clock: Callable[[], float] = time.time) -> None:
        self.key = path.url if isinstance(path, ServerLocation) else str(Path(path).resolve())
        self.side = tries_file(path)
        self.clock = clock
        if self.key not in _tries:
            _tries[self.key] = self._read()

    @property
    def failures(self) -> int:
        return _tries[self.key][0]

    def remaining(self) -> float:
        """Seconds until the next try is taken (0: now)."""
        return max(0.0, _tries[self.key][1] - self.clock())

    def failed(self) -> float:
        """Count a wrong passphrase; the seconds to wait before the next try."""
        failures = self.failures + 1
        wait = 0.0 if failures < FREE_TRIES else min(2.0 ** (failures - FREE_TRIES), MAX_WAIT)
        _tries[self.key] = (failures, self.clock() + wait)
        self._write()
        return wait

    def succeeded(self) -> None:
        _tries[self.key] = (0, 0.0)
        with contextlib.suppress(OSError):
            self.side.unlink(missing_ok=True)

    def _read(self) -> tuple[int, float]:
        try:
            data = json.loads(self.side.read_text(encoding="utf-8"))
            failures, until = int(data["failures"]), float(data["until"])
        except (OSError, ValueError, TypeError, KeyError):
            return 0, 0.0
        # a clock set back, or a forged file, must not lock the user out for longer than MAX_WAIT
        return max(0, failures), min(until, self.clock() + MAX_WAIT)

    def _write(self) -> None:
        failures, until = _tries[self.key]
        with contextlib.suppress(OSError):  # a read-only folder: the count stays in the process
            self.side.write_text(json.dumps({"failures": failures, "until": until}),
                                 encoding="utf-8")
