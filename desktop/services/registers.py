"""Creating and opening registers (the use cases behind `dengji init` and the login dialog)."""

from __future__ import annotations

from pathlib import Path

from desktop.domain.levels import LEVEL_NAMES, LEVELS  # noqa: F401 (LEVEL_NAMES re-exported)
from desktop.errors import KnownError, UsageError
from desktop.storage import DEFAULT_KDF, KdfParams, Register, UnitInfo, create_register

MIN_PASSPHRASE = 8


def passphrase_problem(passphrase: str) -> str | None:
    if len(passphrase) < MIN_PASSPHRASE:
        return f"口令至少需要 {MIN_PASSPHRASE} 个字符"
    return None


def init_register(path: Path, passphrase: str, *, level: str, unit_name: str, unit_code: str,
                  parent_code: str | None = None, kdf: KdfParams = DEFAULT_KDF) -> Register:
    if level not in LEVELS:
        raise UsageError(f"未知的层级“{level}”；可选：{', '.join(LEVELS)}")
    if not unit_name.strip():
        raise UsageError("单位名称不能为空")
    if not unit_code.strip():
        raise UsageError("单位代码不能为空")
    problem = passphrase_problem(passphrase)
    if problem:
        raise KnownError(problem)
    return create_register(path, passphrase, UnitInfo(unit_code.strip(), unit_name.strip(), level,
                                                      (parent_code or "").strip() or None),
                           kdf=kdf)
