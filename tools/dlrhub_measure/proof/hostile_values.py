"""Hostile values the generators draw from: strings, path segments, bodies and framing an attacker
(or a broken provider) sends. Every choice is made with the ``random.Random`` passed in."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from urllib.parse import quote as _quote

INJECTIONS = (
    "' OR '1'='1",
    '" OR ""="',
    "1; DROP TABLE messages--",
    "${jndi:ldap://127.0.0.1:1/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "$(id)",
    "`id`",
    "| cat /etc/passwd",
    "%s%s%s%n",
    '{"$ne": null}',
    "attribute_exists(pk)",
    "MSG#infin8linx#demo#x",
    "#pk = :pk",
    "__proto__",
    "constructor",
    "..%2f..%2f..%2fetc%2fpasswd",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "\r\nSet-Cookie: x=1",
    "\x1b[31mred",
)

ODD_UNICODE = (
    "\u202edemo",  # right-to-left override
    "de\u200bmo",  # zero-width space
    "\uff44\uff45\uff4d\uff4f",  # fullwidth "demo"
    "dem\u043e",  # Cyrillic o
    "demo\ufeff",  # BOM
    "\U0001f4a9",
    "e\u0301",  # combining accent
    "\ufffd",
    "١٢٣",  # Arabic-Indic digits
    "\U0001d7d9\U0001d7da\U0001d7db",  # mathematical digits
    "\u00a0",
    "ǅ",
    "\u2028",
)

#: Percent-encoded path segments: traversal, NUL, encoded slashes, bytes that are not UTF-8.
ODD_SEGMENTS = (
    "..",
    ".",
    "%2e%2e",
    "..%2f..",
    "%2F",
    "%00",
    "demo%00",
    "%ff%fe",
    "%c0%af",  # overlong '/'
    "%ed%a0%80",  # an encoded surrogate
    "%25",
    "%",
    "%zz",
    "demo%20",
    "%0d%0a",
    "a" * 1000,
    "~",
    "demo;x=1",
)

BAD_CONTENT_TYPES = (
    "application/octet-stream",
    "text/plain",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/json; charset=latin-1",
    "application/x-www-form-urlencoded",
    "application/json, text/html",
    "image/png",
    "",
    "\x00",
    "application/" + "j" * 2000,
)

METHODS = ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FOO", "get", "POSTX", "HEAD")


def quote(value: str, safe: str = "") -> str:
    """Percent-encoded as UTF-8, lone surrogates included (as the bytes a broken encoder sends)."""
    return _quote(value, safe=safe, errors="surrogatepass")


def raw(value: str) -> bytes:
    """UTF-8 bytes, lone surrogates included."""
    return value.encode("utf-8", "surrogatepass")


def text(rng: random.Random, length: int | None = None) -> str:
    """A hostile string: an injection, odd unicode, a control character, a very long one, or random code points."""
    kinds: tuple[Callable[[], str], ...] = (
        lambda: rng.choice(INJECTIONS),
        lambda: rng.choice(ODD_UNICODE),
        lambda: "".join(chr(rng.choice((0, 1, 8, 9, 10, 13, 27, 127))) for _ in range(rng.randint(1, 4))),
        lambda: "x" * (length or rng.choice((65, 129, 257, 1025, 70_000))),
        lambda: "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 12))),  # surrogates too
        lambda: rng.choice(("\ud800", "\udfff", "a\udc80b")),  # a lone surrogate (JSON-escaped when sent)
        lambda: str(rng.choice((-1, 0, 2**63, -(2**63) - 1, 10**30))),
        lambda: "",
    )
    return rng.choice(kinds)()


def huge_number(rng: random.Random) -> str:
    """JSON numbers a parser may choke on."""
    return rng.choice(
        (
            "9" * rng.choice((20, 400, 4301, 20_000)),
            "-" + "9" * 5000,
            "1e999",
            "-1e999",
            "1." + "0" * 5000 + "1",
            "0.000000000000000000000000000001",
            "1E400",
            "123456789012345678901234567890",
        )
    )


def deep_json(rng: random.Random) -> bytes:
    """Nesting deep enough to overflow a recursive parser, or just past a sane limit."""
    depth = rng.choice((200, 1_000, 10_000, 100_000))
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def wrong_type(rng: random.Random) -> object:
    return rng.choice(([], {}, [1, 2], {"a": 1}, True, False, None, 0, -1, 1.5, 2**70, "", [[[]]], {"$gt": ""}))


def json_bytes(value: object) -> bytes:
    """JSON as sent; lone surrogates escaped (``\\ud800``): valid JSON text, a surrogate once parsed."""
    return json.dumps(value, ensure_ascii=True).encode()


def bad_json_body(rng: random.Random) -> bytes:
    """Bodies that are not JSON, or JSON no parser should take whole."""
    return rng.choice(
        (
            b"",
            b" ",
            b"\x00" * rng.randint(1, 64),
            b"\xff\xfe\xfd",
            b"\xc0\xaf",
            b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8: not UTF-8
            b"\xef\xbb\xbf[]",  # BOM
            b"[1, 2",
            b"[1,]",
            b"{'a': 1}",
            b"NaN",
            b"[Infinity, -Infinity, NaN]",
            b'{"a": 1} trailing',
            b'{"a": 1}{"b": 2}',
            '["\u0000"]'.encode(),
            b'{"a":"\\ud800"}',
            b'{"a": 1, "a": 2}',
            "[1]".encode("utf-16"),
            b"null",
            b"true",
            b'"just a string"',
            b"12345",
            b"[" + b"1," * 200_000 + b"1]",
            b'{"' + b"k" * 100_000 + b'": 1}',
            deep_json(rng),
            f"[{huge_number(rng)}]".encode(),
        )
    )


def query_value(rng: random.Random) -> str:
    """A query value, percent-encoded where it must be (or deliberately not)."""
    kinds: tuple[Callable[[], str], ...] = (
        lambda: rng.choice(("%00", "%ff", "%zz", "%", "%c0%af", "%ed%a0%80", "a%00b", "%0a", "1%0A", "+", "%2B")),
        lambda: quote(text(rng, 5000)),
        lambda: "9" * rng.choice((21, 65, 5000)),
        lambda: quote(rng.choice(INJECTIONS)),
        lambda: quote(rng.choice(ODD_UNICODE)),
        lambda: "",
    )
    return rng.choice(kinds)()


def segment(rng: random.Random) -> str:
    """A hostile path segment (percent-encoded as sent)."""
    kinds: tuple[Callable[[], str], ...] = (
        lambda: rng.choice(ODD_SEGMENTS),
        lambda: quote(rng.choice(INJECTIONS)),
        lambda: quote(rng.choice(ODD_UNICODE)),
        lambda: quote(text(rng, 300)),
    )
    return rng.choice(kinds)()
