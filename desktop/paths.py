"""One resolver for shipped data and user data (Vorta's get_asset habit).

The shipped data are two folders at the top of the repository: forms/ (form definitions and code
tables) and resources/ (the font and its licences). Each way of running finds them so:

- Source checkout (`python -m desktop`, pytest): this module is <checkout>/desktop/paths.py and
  the folders are <checkout>/forms and <checkout>/resources.
- Editable install (`make` runs `pip install -e '.[test]'`): the installed finder imports
  desktop/ from the checkout itself, so this module and the folders are those of the checkout.
- Installed wheel: pyproject.toml maps both folders into the data package desktop._shipped
  (package-dir plus package-data), so they lie beside this module in
  site-packages/desktop/_shipped/forms and site-packages/desktop/_shipped/resources.
- PyInstaller bundle: build.spec collects both folders into the bundle's own folder,
  sys._MEIPASS/forms and sys._MEIPASS/resources.

DENGJI_FORMS_DIR, when set, names the forms folder in all four (tests, trying out a new form).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _root() -> Path:
    """The folder holding forms/ and resources/."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    here = Path(__file__).resolve().parent
    shipped = here / "_shipped"  # only an installed wheel has it
    return shipped if shipped.is_dir() else here.parent


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
