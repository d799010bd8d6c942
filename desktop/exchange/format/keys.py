"""Public keys as people and files see them: fingerprints and public key files.

A fingerprint is the SHA-256 of a unit's raw 32-byte Ed25519 public key, written as 64
upper-case hex digits in 16 groups of 4 (``3F2A 9C01 …``): it is printed large on the stamped
paper cover page, and the receiving clerk compares it once before trusting a new sender.

A public key file (.djkey, JSON) names its unit (code, name, level) and carries both public
keys, Ed25519 (signing) and X25519 (encryption). It is signed by its own Ed25519 key, so the
encryption key cannot be swapped while the fingerprint still matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from desktop.domain.levels import LEVEL_NAMES
from desktop.errors import KnownError
from desktop.exchange.format.signing import sign, signature_ok

KEY_FILE_FORMAT = "dengji-public-key"
KEY_FILE_VERSION = 1
_HEX64 = re.compile(r"^[0-9A-F]{64}$")


def fingerprint(public_key_bytes: bytes) -> str:
    """SHA-256 of a raw Ed25519 public key: 16 groups of 4 upper-case hex digits."""
    digest = hashlib.sha256(public_key_bytes).hexdigest().upper()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


def normalise_fingerprint(text: str) -> str | None:
    """The fingerprint a person typed (any case, with or without spaces, dashes or colons) in
    the canonical grouped form, or None when it is not 64 hex digits."""
    compact = re.sub(r"[\s\-:：]", "", text or "").upper()
    if not _HEX64.match(compact):
        return None
    return " ".join(compact[i : i + 4] for i in range(0, 64, 4))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, length: int | None = None) -> bytes | None:
    """Decode base64 text; None if it is not base64 (of `length` bytes when given)."""
    if not isinstance(text, str) or len(text) > 1_000_000:
        return None
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if length is not None and len(raw) != length:
        return None
    return raw


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKeyInfo:
    """A unit and its two public keys."""

    code: str
    name: str
    level: str
    signing_key: bytes  # Ed25519, raw
    encryption_key: bytes  # X25519, raw

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.signing_key)

    def describe(self) -> str:
        level = LEVEL_NAMES.get(self.level, self.level)
        return f"{self.name}（{level}，代码 {self.code}）"


def _canonical(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _body(info: PublicKeyInfo) -> dict:
    return {
        "format": KEY_FILE_FORMAT,
        "format_version": KEY_FILE_VERSION,
        "unit": {"code": info.code, "name": info.name, "level": info.level},
        "signing_key": b64(info.signing_key),
        "encryption_key": b64(info.encryption_key),
    }


def public_key_file(info: PublicKeyInfo, signing_private: Ed25519PrivateKey) -> bytes:
    """The bytes of a public key file for `info`, self-signed with the unit's signing key."""
    if raw_public(signing_private) != info.signing_key:
        raise ValueError("the private key does not belong to this public key")
    body = _body(info)
    document = {**body, "fingerprint": info.fingerprint,
                "signature": b64(sign(signing_private, _canonical(body)))}
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def read_public_key_file(data: bytes, source: str) -> PublicKeyInfo:
    """Read and check a public key file; KnownError (in Chinese) when it is not a valid one."""

    def refuse(why: str) -> KnownError:
        return KnownError(f"{source} 不是有效的登记软件公钥文件：{why}。"
                          "请向对方索取由“dengji keys export-public”生成的公钥文件。")

    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise refuse("内容不是 JSON") from err
    if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
        raise refuse("缺少公钥文件标识")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise refuse("缺少格式版本")
    if version > KEY_FILE_VERSION:
        raise KnownError(f"{source} 由更新版本的登记软件生成（格式版本 {version}），"
                         "请升级登记软件后再试。")
    unit = document.get("unit")
    if not isinstance(unit, dict):
        raise refuse("缺少单位信息")
    code, name, level = (unit.get(k) for k in ("code", "name", "level"))
    if not all(isinstance(v, str) and v.strip() and len(v) <= 200 for v in (code, name, level)):
        raise refuse("单位代码、名称或层级缺失")
    if level not in LEVEL_NAMES:
        raise refuse(f"层级“{level}”无效")
    signing = unb64(document.get("signing_key"), 32)
    encryption = unb64(document.get("encryption_key"), 32)
    signature = unb64(document.get("signature"), 64)
    if signing is None or encryption is None or signature is None:
        raise refuse("公钥或签名格式不正确")
    info = PublicKeyInfo(code, name, level, signing, encryption)
    if not signature_ok(signing, signature, _canonical(_body(info))):
        raise refuse("文件的自签名不正确，内容可能被改动过")
    return info
