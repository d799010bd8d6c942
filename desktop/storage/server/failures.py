"""What a refused connection to the server means for the clerk: libpq's text (from psycopg or
from pg_dump's stderr) turned into a Chinese sentence saying what to fix, libpq's own words kept
after it as the detail.

The TLS refusals are told apart (docs/postgresql.md, "TLS"): a server certificate the root
certificate does not verify, a host name the certificate does not name, a server without TLS
when the URL asks for it, a plain connection to a server that takes TLS only, a missing root
certificate, and the client certificate's problems. Anything else gets the general advice.
The matching reads libpq's English: psycopg's own libpq is built without translations, and
pg_dump runs with LC_MESSAGES=C (dump.py `client_environment`); a text not matched keeps the
general advice, so a libpq wording that changes one day costs precision, never the message.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

GENERAL = ("请检查地址、网络和证书（sslmode），数据库口令请写在 ~/.pgpass 或服务文件中；"
           "如数据库尚未建立，请先请数据库管理员建库。")

DEFAULT_ROOT = "~/.postgresql/root.crt"
DEFAULT_CLIENT = "~/.postgresql/postgresql.crt 和 postgresql.key"

CLIENT_FILES = ("客户端证书或私钥文件读不出或不配对。请检查地址中 sslcert 和 sslkey 指向的文件"
                f"（未写时默认为 {DEFAULT_CLIENT}）。")

#: (all these fragments in libpq's text, what to fix); the first that matches is taken. The
#: advice is a template over the URL's parameters (`_facts`): {host}, {user}, {root}, {key},
#: {mode} (" (sslmode=…)" when the URL sets it) and {certified} (the certificate's name)
RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("does not match host name",),
     "服务器证书上的名称与地址中的主机名 {host} 不符（sslmode=verify-full 要求二者一致）。"
     "请在地址中写证书上的主机名{certified}，或请数据库管理员重新签发包含此主机名的服务器证书。"),
    (("certificate verify failed",),
     "服务器证书无法验证：它不是由 sslrootcert 指向的根证书（{root}）所签发，或已过期。"
     "请向数据库管理员索取签发服务器证书的根证书（CA 证书），检查 sslrootcert 指向的就是它；"
     "不要为此降低 sslmode。"),
    (("server does not support ssl",),
     "服务器没有开启 TLS 加密，而地址要求加密连接{mode}，未以明文连接。请数据库管理员在服务器上"
     "设置 ssl = on 并配置服务器证书（docs/postgresql.md“TLS”一节）。"),
    (("no pg_hba.conf entry", "no encryption"),
     "服务器只接受加密连接（pg_hba.conf 中为 hostssl），这次连接没有加密{mode}。"
     "请在地址中写 sslmode=verify-full&sslrootcert=根证书路径。"),
    (("root certificate file",),
     "找不到或读不出根证书文件 {root}，而验证服务器的证书需要它{mode}；地址中未写 sslrootcert "
     f"时默认为 {DEFAULT_ROOT}。请把数据库管理员给的根证书放在那里，"
     "或在地址中写 sslrootcert=根证书路径。"),
    (("connection requires a valid client certificate",),
     "服务器要求客户端证书（pg_hba.conf 中为 cert 认证），这次连接没有出示有效的证书。"
     f"请在地址中写 sslcert=证书路径&sslkey=私钥路径（未写时默认为 {DEFAULT_CLIENT}），"
     "证书须由服务器信任的 CA 签发。"),
    (("certificate authentication failed",),
     "客户端证书上的名称（CN）与登录角色 {user} 不符。请使用为该角色签发的证书，"
     "或在地址中写证书上的角色名。"),
    (("private key file", "group or world access"),
     "客户端私钥文件 {key} 的权限过宽，PostgreSQL 拒绝使用。"
     "请执行 chmod 600 {key}（私钥只应由本人读取）后重试。"),
    (("could not open certificate file",), CLIENT_FILES),
    (("could not load private key file",), CLIENT_FILES),
    (("could not read certificate file",), CLIENT_FILES),
    (("certificate present, but not private key",), CLIENT_FILES),
    (("invalid sslmode value",),
     "地址中的 sslmode 写错了：应为 disable、allow、prefer、require、verify-ca 或 verify-full "
     "之一（建议 verify-full）。"),
    (("ssl error", "alert unknown ca"),
     "服务器不信任这张客户端证书（它不是由服务器 ssl_ca_file 中的 CA 签发）。"
     "请使用数据库管理员为您的角色签发的证书（地址中的 sslcert 和 sslkey）。"),
    # an alert is the handshake's; a connection dropped mid-session says "SSL SYSCALL error"
    # or "unexpected eof" and gets the general advice
    (("ssl error", "alert"),
     "与服务器的 TLS 握手失败。请检查地址中的 sslmode、sslrootcert、sslcert 和 sslkey，"
     "并请数据库管理员核对服务器的证书设置。"),
)


def _facts(url: str, detail: str) -> dict[str, str]:
    parts = urlsplit(url)
    query = {k.strip().lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    # libpq: server certificate for "db.example.org" (and 2 other names) does not match …
    certified = re.search(r'server certificate for "([^"]+)"', detail)
    return {
        "host": query.get("host") or parts.hostname or "（未写主机）",
        "user": query.get("user") or parts.username or "（未写角色）",
        "root": query.get("sslrootcert") or DEFAULT_ROOT,
        "key": query.get("sslkey") or "~/.postgresql/postgresql.key",
        "mode": f"（sslmode={query['sslmode']}）" if query.get("sslmode") else "",
        "certified": f"（{certified.group(1)}）" if certified else "",
    }


def advice(url: str, detail: str) -> str | None:
    """What to fix, in Chinese, for libpq's `detail` on connecting to `url`; None when it is
    none of the refusals above."""
    said = detail.lower()
    for fragments, template in RULES:
        if all(f in said for f in fragments):
            return template.format_map(_facts(url, detail))
    return None


def libpq_detail(text: str) -> str:
    """libpq's words without the program's prefixes (psycopg's "connection failed: ",
    pg_dump's "pg_dump: error: "), on one line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    joined = " ".join(lines)
    for prefix in ("connection failed: ", "connection is bad: ", "pg_dump: error: "):
        if joined.startswith(prefix):
            joined = joined[len(prefix):]
    return joined[:400]


def refusal_message(url: str, name: str, text: str) -> str:
    """The whole message for a connection to `url` (shown as `name`) that libpq refused with
    `text`: what to fix, then libpq's words."""
    detail = libpq_detail(text)
    told = advice(url, detail)
    if told is None:
        return f"无法连接 PostgreSQL 登记库 {name}（{detail or '连接失败'}）。{GENERAL}"
    return f"无法连接 PostgreSQL 登记库 {name}：{told}（PostgreSQL 的说明：{detail}）"
