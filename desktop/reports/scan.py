"""Reading QR codes from a scanned page or a phone photo (PNG, JPEG, …) with zxing-cpp.

Used for the recovery-key sheet (services.secrets.read_recovery_image). The image is loaded
with Pillow, bounded so a crafted one cannot exhaust memory: a regular file of at most
`MAX_BYTES`, within Pillow's pixel limit (checked before the pixels are decoded). It is turned
upright by its EXIF orientation and every QR code on it is decoded, in any rotation.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from desktop.errors import UsageError
from desktop.inputs import regular_file

MAX_BYTES = 64 * 2**20


def read_qr_texts(image: Path) -> list[str]:
    """The texts of the QR codes found on `image`, in the order zxing-cpp finds them (empty
    when there are none). Raise UsageError for a file that is no readable image."""
    import zxingcpp
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = regular_file(Path(image), "图片")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise UsageError(f"无法读取图片 {path}（{err.strerror}）。") from err
    if size > MAX_BYTES:
        raise UsageError(f"图片 {path} 太大（{size // 2**20} MB）。请用 300 dpi 左右扫描或拍照。")
    try:
        with warnings.catch_warnings():
            # more pixels than Pillow's limit (about 89 million; a 600 dpi A4 scan has 35):
            # refused before the pixels are decoded
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                picture = ImageOps.exif_transpose(img).convert("L")
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        raise UsageError(f"图片 {path} 的像素太多。请用 300 dpi 左右扫描或拍照。") from err
    except UnidentifiedImageError as err:
        raise UsageError(
            f"{path} 不是能读取的图片。请选择扫描件或照片（PNG、JPEG 等格式）。") from err
    except OSError as err:
        raise UsageError(f"无法读取图片 {path}（{err}）。文件可能已损坏。") from err
    codes = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in codes if code.valid]
