"""One resolver for shipped data and user data (Vorta's get_asset habit).

Works from a source checkout, an installed wheel and a PyInstaller bundle.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def forms_dir() -> Path:
    """The folder of form definitions (forms/*.toml) and code tables (forms/codes/)."""
    override = os.environ.get("DENGJI_FORMS_DIR")
    return Path(override) if override else _root() / "forms"


def resources_dir() -> Path:
    return _root() / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Where the default register lives (made on first run)."""
    override = os.environ.get("DENGJI_HOME")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "Dengji"


def default_db_path() -> Path:
    return user_data_dir() / "register.dengji"
