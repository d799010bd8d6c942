"""The encrypted payload of a version 2 package or return file (docs/packages.md).

Everything a package carries besides its manifest (the data, the sender's audit log, the
xlsx/ and pdf/ copies, a society's statistics table, the inner packages) is one zip, the
payload, encrypted once for the recipient and the sender (encryption.py) and carried as
``payload.enc``. The signed manifest lists every member of the payload (name, SHA-256, size)
and the payload itself, so the signature covers the contents and the file shows a courier
nothing but the manifest. A level that holds a key of the envelope opens the payload into
the members the reader checks exactly as it checks a version 1 package's members; anyone
else can check the signature and the payload's hash only.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from io import BytesIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from desktop.errors import KnownError
from desktop.exchange.format import encryption
from desktop.exchange.format.errors import PackageRefused
from desktop.exchange.format.manifest import (
    MANIFEST,
    PAYLOAD,
    SIGNATURE,
    Manifest,
    payload_member_allowed,
)
from desktop.exchange.format.zipcheck import LIMITS, Limits, name_problem, read_members

#: members zipped as they are: encrypted, signed or already compressed
_STORED_SUFFIXES = (".enc", ".sig", ".djpkg", ".xlsx", ".pdf")
_OUTER = {MANIFEST, SIGNATURE, PAYLOAD}
MAX_PAYLOAD = 2**31 - 1  # what AES-GCM in `cryptography` encrypts at once


def aad(package_id: str) -> bytes:
    """The associated data of the payload's encryption: the package id and the member name,
    so a payload cannot pass for another package's or for a version 1 data member."""
    return f"{package_id}/{PAYLOAD}".encode()


def zip_members(members: list[tuple[str, bytes]], stamp: tuple[int, ...]) -> bytes:
    """A zip of `members` in the given order, every entry dated `stamp`: encrypted, signed
    and already compressed members stored, text deflated."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            method = (zipfile.ZIP_STORED if name.endswith(_STORED_SUFFIXES)
                      else zipfile.ZIP_DEFLATED)
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=method)
    return out.getvalue()


def seal(members: dict[str, bytes], recipients: list[tuple[str, bytes]], package_id: str,
         stamp: tuple[int, ...]) -> tuple[bytes, dict]:
    """The payload of `members`, encrypted for every (fingerprint, X25519 key) of
    `recipients`: its ciphertext and the envelope for the manifest."""
    for name in members:
        if name_problem(name) or not payload_member_allowed(name):
            raise ValueError(f"not a payload member name: {name!r}")
    plain = zip_members(sorted(members.items()), stamp)
    if len(plain) > MAX_PAYLOAD:
        raise KnownError(f"数据包的内容（数据、Excel 和 PDF、内含数据包）共 {len(plain) >> 20} MB，"
                         "超过单个数据包 2 GB 的上限，未导出。请不附 Excel 和 PDF 文件"
                         "（dengji export --no-files）再导出。")
    return encryption.encrypt(plain, recipients, aad(package_id))


@dataclass(frozen=True)
class Opened:
    """What opening a payload gave: the members to check (the manifest and its signature
    with the payload's members), or None when it could not or need not go further; `check`,
    `ok` and `message` are the check the reader shows (ok None: checked outside only)."""

    members: dict[str, bytes] | None
    check: str
    ok: bool | None
    message: str


def _outside(members: dict[str, bytes], manifest: Manifest) -> str | None:
    """Why the outer zip is not what the signed manifest says, or None."""
    extra = sorted(set(members) - _OUTER)
    if extra:
        return (f"格式版本 {manifest.format_version} 的数据包外层只应有 manifest.json、"
                f"manifest.sig 和 {PAYLOAD}，却多出清单未列出的文件 {'、'.join(extra[:5])[:200]}")
    if PAYLOAD not in members:
        return f"缺少文件 {PAYLOAD}（加密内容）"
    digest, size = manifest.payload or ("", -1)
    data = members[PAYLOAD]
    if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
        return f"{PAYLOAD} 的内容与清单中的哈希不符（被改动过或已损坏）"
    return None


def open_payload(members: dict[str, bytes], manifest: Manifest,
                 key: X25519PrivateKey | None, source: str, limits: Limits = LIMITS) -> Opened:
    """Check the outer zip of a version 2 package against its (signature-checked) manifest
    and, with `key`, decrypt the payload and read it through zipcheck's limits."""
    problem = _outside(members, manifest)
    if problem:
        return Opened(None, "完整性", False, problem)
    if key is None:
        return Opened(None, "加密内容", None, (
            f"签名正确，{PAYLOAD} 与清单中的哈希一致；内容已加密，只有接收单位和发送单位能打开，"
            f"其中的 {len(manifest.members)} 个文件（数据、审计记录、Excel 和 PDF、内含数据包）"
            "未核对。请用 --db 指定接收单位的登记库再核验"))
    if not encryption.can_decrypt(manifest.encryption, key):
        r = manifest.recipient
        return Opened(None, "接收单位", False, f"本单位不是接收方，无法解密：这是发给 {r.name}"
                                              f"（代码 {r.code}）的，不是发给本单位的")
    try:
        plain = encryption.decrypt(members[PAYLOAD], manifest.encryption, key,
                                   aad(manifest.package_id))
    except encryption.DecryptionFailed:
        return Opened(None, "加密内容", False,
                      "无法用本单位的密钥解密加密内容（数据被改动过或已损坏）")
    try:
        inside = read_members(plain, f"{source} 的加密内容",
                              lambda name: payload_member_allowed(name, manifest.format_version),
                              limits)
    except PackageRefused as err:
        return Opened(None, "加密内容", False, f"加密内容中的压缩包不合格：{err.reason}")
    return Opened({MANIFEST: members[MANIFEST], SIGNATURE: members[SIGNATURE], **inside},
                  "加密内容", True, f"已解密，内含 {len(inside)} 个文件")


def data_plaintext(members: dict[str, bytes], manifest: Manifest,
                   key: X25519PrivateKey) -> bytes:
    """The record (or comment) lines of a package whose members have been read: version 2's
    are plain inside the opened payload, version 1's are decrypted here.

    Raises encryption.DecryptionFailed."""
    data = members[manifest.data_member]
    if manifest.sealed:
        return data
    return encryption.decrypt(data, manifest.encryption, key, manifest.package_id.encode())
