"""The passphrase dialog shows a long refusal whole: a server register whose TLS connection is
refused says what to fix and libpq's words (storage/server/failures.py, tests/pg/test_tls.py)
in a few lines; the dialog grows to hold them instead of letting them run under the buttons."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from desktop.errors import KnownError  # noqa: E402
from desktop.storage.server.failures import refusal_message  # noqa: E402
from desktop.storage.server.location import ServerLocation  # noqa: E402
from desktop.ui.dialogs import PassphraseDialog  # noqa: E402

URL = ("postgresql://zhang@db.example.org:5432/dengji_province?sslmode=verify-full"
       "&sslrootcert=/home/zhang/证书/dengji-root-ca.crt&sslcert=/home/zhang/证书/zhang.crt"
       "&sslkey=/home/zhang/证书/zhang.key")
LIBPQ = ('connection failed: connection to server at "10.1.2.3", port 5432 failed: server '
         'certificate for "pg.example.org" (and 2 other names) does not match host name '
         '"db.example.org"')


def test_a_refused_tls_connection_is_shown_whole(qtbot):
    location = ServerLocation.parse(URL)
    message = refusal_message(URL, URL, LIBPQ)
    assert "请在地址中写证书上的主机名（pg.example.org）" in message

    def opener(secret: str):
        raise KnownError(message)

    dialog = PassphraseDialog(location, opener)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.secret.setText("any passphrase")
    dialog.try_open()
    qtbot.wait(50)  # let the layout run
    label = dialog.error
    assert label.text() == message and label.isVisible()
    # the label got the height its wrapped text needs, and nothing below overlaps it
    assert label.height() >= label.heightForWidth(label.width())
    below = dialog.ok.mapTo(dialog, dialog.ok.rect().topLeft()).y()
    assert label.geometry().bottom() < below
    assert dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width()) - 1
