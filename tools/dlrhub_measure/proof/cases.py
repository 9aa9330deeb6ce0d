"""One generated request (a :class:`Case`) and what the suites know of it, and the valid callback
of each provider a hostile one is made from (:class:`Call`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

from dlrhub_measure.proof.hostile_values import quote, raw
from dlrhub_measure.proof.rawhttp import line_breaks_inside, request_bytes


@dataclass(frozen=True)
class Case:
    """A request as bytes, and what the suites check of its reply."""

    route: str  # the provider of a webhook route, or "api"
    kind: str  # what the generator did, e.g. "wrong-secret" or "body:deep-json"
    data: bytes
    #: Carries every credential its route checks (URL secret, signature, body credentials).
    authenticated: bool
    #: Message ids it could make the hub store (as the hub would read them).
    ids: frozenset[str] = frozenset()
    #: Phone numbers it carries: no reply and no log line may show one.
    phones: tuple[str, ...] = ()
    head: bool = False
    #: A valid callback: must be answered 200 and stored.
    must_store: bool = False
    #: Sent on a connection of its own, closed after (its framing may leave bytes the server reads as
    #: another request).
    fresh: bool = False
    #: Where it comes from: "{route}/{phase}/{index}" rebuilds it (``hostile.rebuild``).
    origin: str = ""

    def __post_init__(self) -> None:
        if not self.fresh and line_breaks_inside(self.data):
            object.__setattr__(self, "fresh", True)


#: The content types of the callbacks, as headers.
JSON = ("Content-Type", "application/json")
FORM = ("Content-Type", "application/x-www-form-urlencoded")


def pair(name: str, value: str) -> str:
    return f"{quote(name)}={quote(value)}"


def infin8linx_callback(
    host: str, secret: str, message_id: str, phone: str, state: str, account: str = "demo"
) -> bytes:
    """An Infin8linx delivery callback (GET, the report in the query) as bytes."""
    query = "&".join((pair("msgid", message_id), pair("das", phone), pair("state", state)))
    return request_bytes("GET", f"/webhooks/infin8linx/{account}/{secret}?{query}", host)


def webcom_array(host: str, secret: str, items: list[dict[str, Any]]) -> bytes:
    """A Webcom delivery report (POST, a JSON array) as bytes."""
    body = json.dumps(items).encode()
    return request_bytes("POST", f"/webhooks/webcom/demo/{secret}", host, headers=[JSON], body=body)


def decoded(encoded: str) -> list[tuple[str, str]]:
    """The pairs a query string or form body means, read as the hub reads them."""
    return parse_qsl(encoded, keep_blank_values=True)


@dataclass
class Call:
    """A provider callback before encoding: the parts a mutation changes, then signed and sent."""

    provider: str
    method: str
    account: str
    secret: str
    #: "query" (fields in the query string), "form" (a form body) or "json" (``document`` as the body).
    style: str
    fields: list[str] = field(default_factory=list)  # "name=value", percent-encoded as sent
    document: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    phones: tuple[str, ...] = ()
    #: Keys that sign the call (Twilio's auth token, Vonage's signature secret and method); {} when unsigned.
    signing: dict[str, str] = field(default_factory=dict)
    #: Set by a mutation: the body's bytes exactly (no encoding, no signature).
    raw_body: bytes | None = None
    path_suffix: str = ""

    def path(self) -> str:
        return f"/webhooks/{self.provider}/{self.account}/{self.secret}{self.path_suffix}"

    def query(self) -> str:
        return "&".join(self.fields) if self.style == "query" else ""

    def body(self) -> bytes:
        if self.raw_body is not None:
            return self.raw_body
        if self.style == "form":
            return raw("&".join(self.fields))
        if self.style == "json":
            return json.dumps(self.document, ensure_ascii=True).encode()
        return b""

    def target(self) -> str:
        query = self.query()
        return self.path() + (f"?{query}" if query else "")

    def ids(self) -> frozenset[str]:
        """Every value of an id field the hub could store, read as the hub reads the call."""
        found: set[str] = set()
        names = {"msgid", "id_sms", "messageId", "MessageSid", "SmsSid"}
        encoded = "&".join(self.fields)
        if self.style == "form" and self.raw_body is not None:
            try:
                encoded = self.raw_body.decode()
            except UnicodeDecodeError:
                encoded = ""
        if self.style in ("query", "form"):
            found |= {value for name, value in decoded(encoded) if name in names}
        if self.style == "json":
            try:
                document = json.loads(self.body()) if self.raw_body is not None else self.document
            except (ValueError, RecursionError, UnicodeDecodeError):
                document = None
            found |= set(_json_ids(document, names))
        return frozenset(found)


def _json_ids(document: Any, names: set[str], depth: int = 0) -> list[str]:
    if depth > 3:
        return []
    if isinstance(document, list):
        return [found for item in document[:2000] for found in _json_ids(item, names, depth + 1)]
    if isinstance(document, dict):
        return [str(value) for name, value in document.items() if name in names and not isinstance(value, dict | list)]
    return []


def twilio_signature(url: str, pairs: list[tuple[str, str]], token: str) -> str:
    """As Twilio's RequestValidator: the URL, then each name and value, names sorted, values sorted and once."""
    values: dict[str, set[str]] = {}
    for name, value in pairs:
        values.setdefault(name, set()).add(value)
    text = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(token.encode(), text.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def vonage_signature(params: dict[str, str], secret: str, method: str) -> str:
    """As Vonage signs: ``&name=value`` sorted by name (``&`` and ``=`` in values as ``_``), then MD5 of it
    and the secret ("md5hash") or its HMAC; lower-case hex. Lone surrogates sent as their bytes."""
    text = "".join(f"&{name}={params[name].replace('&', '_').replace('=', '_')}" for name in sorted(params))
    data = text.encode("utf-8", "surrogatepass")
    if method == "md5hash":
        return hashlib.md5(data + secret.encode(), usedforsecurity=False).hexdigest()
    return hmac.new(secret.encode(), data, getattr(hashlib, method)).hexdigest()


def sign(call: Call, host: str) -> Call:
    """The call signed as its provider signs it (after a mutation changed it); unchanged when unsigned."""
    if not call.signing:
        return call
    if "auth_token" in call.signing:  # Twilio
        url = f"http://{host}{call.path()}"
        signature = twilio_signature(url, decoded("&".join(call.fields)), call.signing["auth_token"])
        headers = [(k, v) for k, v in call.headers if k.lower() != "x-twilio-signature"]
        return replace(call, headers=[*headers, ("X-Twilio-Signature", signature)])
    # Vonage: sig over every parameter but sig, with a fresh timestamp and nonce.
    secret, method = call.signing["signature_secret"], call.signing["signature_method"]
    if call.style == "json":
        if not isinstance(call.document, dict):
            return call
        params = {k: v for k, v in call.document.items() if k != "sig"}
        if not all(isinstance(v, str) for v in params.values()):
            return call
        params |= {"timestamp": str(int(time.time())), "nonce": f"n{random.random()}"[:20]}
        return replace(call, document={**params, "sig": vonage_signature(params, secret, method)})
    pairs = [(k, v) for k, v in decoded("&".join(call.fields)) if k not in ("sig", "timestamp", "nonce")]
    params = dict(pairs) | {"timestamp": str(int(time.time())), "nonce": "n1"}
    fields = [f for f in call.fields if not f.startswith(("sig=", "timestamp=", "nonce="))]
    fields += [pair("timestamp", params["timestamp"]), pair("nonce", "n1")]
    return replace(call, fields=[*fields, pair("sig", vonage_signature(params, secret, method))])


def to_case(
    call: Call,
    host: str,
    kind: str,
    *,
    authenticated: bool,
    must_store: bool = False,
    method: str | None = None,
    content_length: str | None = None,
    target: str | bytes | None = None,
    fresh: bool = False,
) -> Case:
    body = call.body()
    data = request_bytes(
        method or call.method,
        call.target() if target is None else target,
        host,
        headers=call.headers,
        body=body,
        content_length=content_length,
    )
    return Case(
        route=call.provider,
        kind=kind,
        data=data,
        authenticated=authenticated,
        ids=call.ids(),
        phones=call.phones,
        head=(method or call.method) == "HEAD",
        must_store=must_store,
        fresh=fresh or content_length is not None,
    )
