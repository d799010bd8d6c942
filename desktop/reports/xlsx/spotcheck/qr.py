"""The QR images of a verification workbook: one small black-and-white PNG per record, made in
memory, on another process for a large sample while the cells are written.

zxing-cpp makes the codes with a fixed mask pattern (mask 4, as the printed pages use:
reports/pdf/qr.py): choosing the "best" of the eight takes four times as long, and any mask
is valid (a test decodes every image and checks the mask). The PNG is written here, 1 bit per
pixel: a 37-module code (version 3 with its 4-module quiet zone) at 2 pixels per module.
"""

from __future__ import annotations

import multiprocessing
import os
import struct
import sys
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import zxingcpp

from desktop.processes import die_with_parent

QR_SCALE = 2  # pixels per module of the PNG
QR_MASK = 4  # the data mask every code is made with
PARALLEL_QR = 500  # from this many codes on, the PNGs are made on another process
QR_CHUNK = 250

_BITS = bytes.maketrans(bytes(range(256)), b"0" * 128 + b"1" * 128)  # dark → 0, light → 1
_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_END = _chunk(b"IEND", b"")


def qr_png(text: str) -> bytes:
    """A QR code of `text` (error correction M, mask 4, quiet zone included) as a
    black-and-white (1 bit per pixel) PNG."""
    image = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M",
                                    data_mask=QR_MASK
                                    ).to_image(scale=QR_SCALE, add_quiet_zones=True)
    height, width = image.shape[:2]
    bits = bytes(image).translate(_BITS)
    pad = b"1" * (-width % 8)
    size = (width + 7) // 8
    # each module is QR_SCALE rows tall: pack one pixel row per module row, then repeat it
    packed = int(b"".join(bits[i * width:(i + 1) * width] + pad
                          for i in range(0, height, QR_SCALE)), 2
                 ).to_bytes(size * len(range(0, height, QR_SCALE)))
    raw = b"".join(b"\x00" + packed[j:j + size] for j in range(0, len(packed), size)
                   for _ in range(QR_SCALE))[:height * (size + 1)]
    return (_SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _END)


def _qr_chunk(codes: list[str]) -> list[bytes]:
    return [qr_png(c) for c in codes]


class QrImages:
    """The PNGs of many codes, made on another process while the caller writes the cells
    (forked, on Linux with two cores or more, from PARALLEL_QR codes on); `get()` shares what
    is left with it and waits for the rest, `close()` stops the process."""

    def __init__(self, codes: Sequence[str], *, parallel: bool | None = None) -> None:
        if parallel is None:
            parallel = (len(codes) >= PARALLEL_QR and sys.platform.startswith("linux")
                        and (os.cpu_count() or 1) > 1)
        self.codes, self.pool, self.futures = list(codes), None, []
        if parallel and self.codes:
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                            initializer=die_with_parent,
                                            initargs=(os.getpid(),))
            self.futures = [self.pool.submit(_qr_chunk, self.codes[i:i + QR_CHUNK])
                            for i in range(0, len(self.codes), QR_CHUNK)]

    def get(self) -> list[bytes]:
        """The PNGs in the order of the codes. The chunks the other process has not started
        yet are made here meanwhile, from the last one back (it works from the first)."""
        if self.pool is None:
            return _qr_chunk(self.codes)
        here: dict[int, list[bytes]] = {}
        for k in reversed(range(len(self.futures))):
            if not self.futures[k].cancel():
                break
            here[k] = _qr_chunk(self.codes[k * QR_CHUNK:(k + 1) * QR_CHUNK])
        return [png for k, f in enumerate(self.futures)
                for png in (here[k] if k in here else f.result())]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
