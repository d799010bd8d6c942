"""The CJK font: Qt draws empty boxes for Chinese without one, so a shipped font is loaded
first (resources/fonts/), then a few well-known system fonts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from desktop.paths import resource

#: system fonts tried when none is shipped (Debian's fonts-wqy-microhei, Windows, macOS)
SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
#: family names preferred when the font is already known to the system
PREFERRED = ("WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC",
             "WenQuanYi Zen Hei")
POINT_SIZE = 10


def candidates() -> list[Path]:
    shipped = sorted(p for p in resource("fonts").glob("*") if p.suffix.lower() in
                     (".ttc", ".ttf", ".otf")) if resource("fonts").is_dir() else []
    return [*shipped, *(Path(p) for p in SYSTEM_FONTS)]


def load_cjk_font(app: QApplication) -> str | None:
    """Load a CJK font and make it the application font; return its family (None: none found)."""
    family = None
    for path in candidates():
        if not path.is_file():
            continue
        font_id = QFontDatabase.addApplicationFont(str(path))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if families:
            family = families[0]
            break
    if family is None:
        known = set(QFontDatabase.families())
        family = next((f for f in PREFERRED if f in known), None)
    if family is not None:
        font = QFont(family, POINT_SIZE)
        app.setFont(font)
    return family
