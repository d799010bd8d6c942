"""Reading QR codes from a scanned page or a phone photo (PNG, JPEG, …) with zxing-cpp.

Used for the recovery-key sheet (services.secrets.read_recovery_image): the image is loaded
with Pillow (bounded: a regular file of at most `MAX_BYTES`, at most Pillow's pixel limit, so a
crafted image cannot exhaust memory), turned upright by its EXIF orientation, and every QR
code on it is decoded, in any rotation.
"""

from __future__ import annotations

from pathlib import Path

from desktop.errors import UsageError
from desktop.inputs import regular_file

MAX_BYTES = 64 * 2**20
#: pixels an image may have (a 600 dpi A4 scan has about 35 million)
MAX_PIXELS = 120_000_000


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
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise UsageError(f"图片 {path} 的像素太多。请用 300 dpi 左右扫描或拍照。")
            picture = ImageOps.exif_transpose(img).convert("L")
    except (UnidentifiedImageError, Image.DecompressionBombError) as err:
        raise UsageError(
            f"{path} 不是能读取的图片。请选择扫描件或照片（PNG、JPEG 等格式）。") from err
    except OSError as err:
        raise UsageError(f"无法读取图片 {path}（{err}）。文件可能已损坏。") from err
    codes = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in codes if code.valid]
