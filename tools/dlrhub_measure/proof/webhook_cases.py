"""Generated webhook requests, one provider's callback route at a time: valid callbacks, and hostile
ones made from them, each from its own seeded ``random.Random`` (a case is rebuilt from its seed,
route, phase and index alone).

Unauthenticated cases lack a credential the route checks (the URL secret; Twilio's and Vonage's
signature; InnoPaaS's ``receiver``/``pswd``), whatever else they carry: none may be answered 2xx or
store anything. Authenticated ones carry every credential and hostile content: any 4xx, or 200.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dlrhub.providers.registry import PROVIDERS
from dlrhub_measure.proof import hostile_values as hv
from dlrhub_measure.proof.cases import FORM, JSON, Call, Case, decoded, pair, sign, to_case

#: Every provider whose callbacks the hub takes: each is a route of its own.
WEBHOOK_PROVIDERS = tuple(provider.name for provider in PROVIDERS if provider.webhook is not None)
ACCOUNT = "demo"


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def hexdigits(rng: random.Random, n: int, alphabet: str = "0123456789abcdef") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# -- valid callbacks (message ids never start like a phone number: a scan tells them apart) ----------


def infin8linx(rng: random.Random, keys: dict[str, Any], secret: str) -> Call:
    das = "62813" + digits(rng, 7)
    fields = [pair("msgid", "9" + digits(rng, 10)), pair("das", das), pair("state", rng.choice("012"))]
    return Call("infin8linx", "GET", ACCOUNT, secret, "query", fields, phones=(das,))


def webcom(rng: random.Random, keys: dict[str, Any], secret: str) -> Call:
    items = [
        {
            "id_sms": int("8" + digits(rng, 10)),
            "time": "2026-11-25 13:15:03",
            "state": rng.choice(("send", "partly_deliver", "deliver", "read", "not_deliver", "expired")),
        }
        for _ in range(rng.choice((1, 1, 1, 2, 5)))
    ]
    return Call("webcom", "POST", ACCOUNT, secret, "json", document=items, headers=[JSON])


def innopaas(rng: random.Random, keys: dict[str, Any], secret: str) -> Call:
    mobile = "86188" + digits(rng, 8)
    report = {
        "receiver": keys.get("receiver", ""),
        "pswd": keys.get("pswd", ""),
        "msgid": "7" + digits(rng, 17),
        "mobile": mobile,
        "status": rng.choice(("DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "UNKNOWN")),
        "reportTime": str(int(time.time() * 1000)),
        "fee": "0.0567",
        "currency": "CNY",
        "smsNum": "1",
    }
    document: Any = report if rng.random() < 0.8 else [report]
    return Call("innopaas", "POST", ACCOUNT, secret, "json", document=document, headers=[JSON], phones=(mobile,))


def twilio(rng: random.Random, keys: dict[str, Any], secret: str) -> Call:
    to = "+1555" + digits(rng, 7)
    sid = "SM" + hexdigits(rng, 32)
    status = rng.choice(("queued", "sent", "delivered", "undelivered", "failed", "read"))
    params = {"AccountSid": "AC" + "0" * 32, "MessageSid": sid, "MessageStatus": status, "To": to}
    params["From"] = "+15017250604"
    fields = [pair(k, v) for k, v in params.items()]
    signing = {"auth_token": str(keys["auth_token"])} if keys.get("auth_token") else {}
    return Call("twilio", "POST", ACCOUNT, secret, "form", fields, headers=[FORM], phones=(to,), signing=signing)


def vonage(rng: random.Random, keys: dict[str, Any], secret: str) -> Call:
    msisdn = "44770" + digits(rng, 7)
    params = {
        "msisdn": msisdn,
        "to": "DLRHub",
        "messageId": "0C" + hexdigits(rng, 14, "0123456789ABCDEF"),
        "status": rng.choice(("accepted", "buffered", "delivered", "expired", "failed", "rejected", "unknown")),
        "err-code": "0",
        "price": "0.03330000",
        "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    signing = {}
    if keys.get("signature_secret"):
        signing = {"signature_secret": str(keys["signature_secret"]), "signature_method": keys["signature_method"]}
    fields = [pair(k, v) for k, v in params.items()]
    shapes: dict[str, dict[str, Any]] = {
        "get": {"method": "GET", "style": "query", "fields": fields},
        "form": {"method": "POST", "style": "form", "fields": fields, "headers": [FORM]},
        "json": {"method": "POST", "style": "json", "document": params, "headers": [JSON]},
    }
    shape = shapes[rng.choice(("get", "form", "json"))]
    return Call("vonage", account=ACCOUNT, secret=secret, phones=(msisdn,), signing=signing, **shape)


#: provider -> its valid callback's generator
VALID: dict[str, Callable[[random.Random, dict[str, Any], str], Call]] = {
    generator.__name__: generator for generator in (infin8linx, webcom, innopaas, twilio, vonage)
}
#: The id field of each provider, and the fields a mutation rewrites.
ID_FIELD = {
    "infin8linx": "msgid",
    "webcom": "id_sms",
    "innopaas": "msgid",
    "twilio": "MessageSid",
    "vonage": "messageId",
}


def _one_changed(secret: str, at: int) -> str:
    """``secret`` with its character at ``at`` changed."""
    return secret[:at] + ("A" if secret[at] != "A" else "B") + secret[at + 1 :]


def _with_raw_bytes(rng: random.Random, call: Call) -> bytes:
    """The call's target with a parameter of raw bytes that are not UTF-8 (or NUL, or DEL)."""
    junk = rng.choice((b"\xff\xfe", b"\xc0\xaf", b"\x00", b"\x7f", b"\xed\xa0\x80", b"\x80"))
    return call.target().encode() + (b"&" if call.query() else b"?") + b"x=" + junk


class WebhookRoute:
    """The cases of one provider's route: ``case(phase, index)``; ``valid(index)`` for plain callbacks."""

    def __init__(self, provider: str, host: str, accounts: dict[str, dict[str, Any]], seed: int) -> None:
        if provider not in VALID:
            raise ValueError(f"no generator for the webhook of {provider!r}: add one to webhook_cases.py")
        self.provider = provider
        self.host = host
        self.keys = accounts[f"{provider}/{ACCOUNT}"]
        self.secret = str(self.keys["webhook_secret"])
        #: Every secret of every account: a hostile URL may carry another account's.
        self.others = [str(keys["webhook_secret"]) for keys in accounts.values() if keys.get("webhook_secret")]
        self.seed = seed

    def rng(self, phase: str, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{self.provider}:{phase}:{index}")

    def valid_call(self, rng: random.Random) -> Call:
        return VALID[self.provider](rng, self.keys, self.secret)

    def valid(self, index: int, phase: str = "valid") -> Case:
        call = sign(self.valid_call(self.rng(phase, index)), self.host)
        return to_case(call, self.host, "valid", authenticated=True, must_store=True)

    def case(self, phase: str, index: int) -> Case:
        """``phase`` "unauthenticated" or "authenticated". The same case for the same seed, phase and index
        (but for the times a signed call carries, which must be fresh)."""
        rng = self.rng(phase, index)
        call = self.valid_call(rng)
        if phase == "unauthenticated":
            case = self._unauthenticated(rng, call)
        elif rng.random() < 0.1:  # plain valid callbacks among the hostile ones: each must be stored
            case = to_case(sign(call, self.host), self.host, "valid", authenticated=True, must_store=True)
        else:
            case = self._authenticated(rng, call)
        return replace(case, origin=f"{self.provider}/{phase}/{index}")

    # -- without a valid credential --------------------------------------------------------

    def _unauthenticated(self, rng: random.Random, call: Call) -> Case:
        """The URL's secret, account or provider wrong, or (a valid URL) the signature or body credentials
        wrong; and on top of it, often, hostile content."""
        choice = rng.randrange(10)
        kind = ""
        if choice <= 2:
            call, kind = replace(call, secret=self._wrong_secret(rng)), "wrong-secret"
        elif choice == 3:
            call, kind = replace(call, account=self._wrong_account(rng)), "wrong-account"
        elif choice == 4:
            call, kind = replace(call, provider=self._wrong_provider(rng)), "wrong-provider"
        elif choice == 5 and (call.signing or self.provider == "innopaas"):
            call, kind = self._bad_credentials(rng, call), "bad-signature-or-body-credentials"
        elif choice == 6:
            call, kind = replace(call, secret=""), "no-secret"
        else:
            call, kind = replace(call, secret=self._wrong_secret(rng)), "wrong-secret"
        if kind != "bad-signature-or-body-credentials":
            call = sign(call, self.host)
        call = replace(call, signing={})  # what it carries now is all it carries: never signed again
        if rng.random() < 0.6:  # and hostile content: nothing of it may be read before authentication
            case = self._mutate(rng, call)
            return replace(case, kind=f"{kind}+{case.kind}", authenticated=False, must_store=False)
        return replace(to_case(call, self.host, kind, authenticated=False), route=self.provider)

    def _wrong_secret(self, rng: random.Random) -> str:
        secret = self.secret
        others = [s for s in self.others if s != secret]
        kinds: tuple[Callable[[], str], ...] = (
            lambda: hexdigits(rng, rng.choice((8, 24, 43))),
            lambda: _one_changed(secret, rng.randrange(len(secret))),
            lambda: secret + rng.choice(("x", "%00", "%20", "%0a", "%2F", "..", "=")),
            lambda: secret[: rng.randrange(len(secret))] or "x",
            lambda: secret.swapcase() if secret.swapcase() != secret else secret + "A",
            lambda: rng.choice(others) if others else "y" * 32,  # another account's secret
            lambda: hv.quote(secret[:-1] + rng.choice(hv.ODD_UNICODE)),
            lambda: hv.segment(rng),
            lambda: hv.quote("\udcff" * 24),
        )
        return rng.choice(kinds)()

    def _wrong_account(self, rng: random.Random) -> str:
        choice = rng.randrange(5)
        if choice == 0:
            return rng.choice(("Demo", "DEMO", "demo2", "dem", "main", "admin", "root", "a" * 65, "-", "_"))
        if choice == 1:
            return rng.choice(("..", "../demo", "%2e%2e%2fdemo", "demo%2f..", "demo%00", "demo%20", "%00demo"))
        if choice == 2:
            return hexdigits(rng, rng.choice((2, 16, 64)))  # made-up names: each distinct
        return hv.segment(rng)

    def _wrong_provider(self, rng: random.Random) -> str:
        return rng.choice(
            (
                self.provider.upper(),
                self.provider.capitalize(),
                self.provider + "x",
                "huawei",
                "awseum",
                "unknown",
                "..",
                "%2e%2e",
                hv.segment(rng),
            )
        )

    def _bad_credentials(self, rng: random.Random, call: Call) -> Call:
        """A valid URL, but the call's own credentials wrong: no signature, a wrong one, a stale one
        (Vonage), or InnoPaaS's receiver/pswd not the account's."""
        if self.provider == "innopaas":
            document = call.document
            items = document if isinstance(document, list) else [document]
            field = rng.choice(("pswd", "receiver"))
            items[0][field] = rng.choice(("", "wrong", str(items[0][field]) + "x", hv.text(rng)))
            return call
        choice = rng.randrange(4)
        if choice == 0:
            return call  # unsigned: the demo accounts require signatures
        if choice == 1:  # signed with another key
            other = {k: ("k" * 32 if k in ("auth_token", "signature_secret") else v) for k, v in call.signing.items()}
            return sign(replace(call, signing=other), self.host)
        return self._changed_after_signing(sign(call, self.host), status_added=choice == 2)

    def _changed_after_signing(self, signed: Call, *, status_added: bool) -> Call:
        """A signed call changed after: a status the signature does not cover (Twilio, ``status_added``),
        other values under a valid signature (Vonage), or a second, wrong signature header (Twilio)."""
        if status_added and self.provider == "twilio":
            # A value it already has would change nothing (the signature covers each value once, as
            # Twilio's own validator does): a different one.
            present = {value for name, value in decoded("&".join(signed.fields)) if name == "MessageStatus"}
            added = next(word for word in ("read", "delivered") if word not in present)
            return replace(signed, fields=[*signed.fields, pair("MessageStatus", added)])
        if self.provider == "vonage" and signed.style == "json":
            return replace(signed, document={**signed.document, "status": "delivered", "messageId": "0CFFFF"})
        if self.provider == "vonage":
            return replace(signed, fields=[*signed.fields[:-1], pair("status", "x"), signed.fields[-1]])
        return replace(signed, headers=[*signed.headers, ("X-Twilio-Signature", "AAAA")])

    # -- with every credential ----------------------------------------------------------------

    def _authenticated(self, rng: random.Random, call: Call) -> Case:
        return replace(self._mutate(rng, call), authenticated=True)

    def _mutate(self, rng: random.Random, call: Call) -> Case:
        """Hostile content in a call (signed after the change, so a signed route reads it)."""
        choice = rng.randrange(100)
        #: (percent of the cases up to, mutation)
        mutations: tuple[tuple[int, Callable[[random.Random, Call], Case]], ...] = (
            (25, self._body_or_fields),
            (35, self._method),
            (45, self._content_type),
            (55, self._duplicates),
            (65, self._headers),
            (72, self._path),
            (80, self._framing),
            (90, self._oversize),
            (100, self._extra_fields),
        )
        return next(mutate for limit, mutate in mutations if choice < limit)(rng, call)

    def _send(self, call: Call, kind: str, **options: Any) -> Case:
        case = to_case(sign(call, self.host), self.host, kind, authenticated=True, **options)
        return replace(case, route=self.provider)

    def _body_or_fields(self, rng: random.Random, call: Call) -> Case:
        if call.style == "json":
            if rng.random() < 0.5:
                return self._send(replace(call, raw_body=hv.bad_json_body(rng)), "body:not-json-or-deep")
            return self._send(replace(call, document=self._json_field(rng, call.document)), "body:field-values")
        name = rng.choice([*{f.split("=", 1)[0] for f in call.fields}, ID_FIELD[self.provider]])
        value = hv.query_value(rng) if rng.random() < 0.7 else hv.huge_number(rng)
        fields = [f for f in call.fields if not f.startswith(f"{name}=")] + [f"{name}={value}"]
        return self._send(replace(call, fields=fields), f"{call.style}:field-value")

    def _json_field(self, rng: random.Random, document: Any) -> Any:
        items = document if isinstance(document, list) else [document]
        item = rng.choice(items)
        name = rng.choice([*item.keys(), "extra"]) if isinstance(item, dict) else "x"
        choice = rng.randrange(5)
        if choice == 0:
            item[name] = hv.wrong_type(rng)
        elif choice == 1:
            item[name] = hv.text(rng)
        elif choice == 2:
            item.pop(name, None)
        elif choice == 3:
            item[name] = rng.choice((10**4000, -(10**30), 1.5e308, float("inf")))
        else:  # an item that is not an object, or many items mixing good and bad ones
            extra = [rng.choice((1, "x", None, [], {"id_sms": "1\n"}, {"msgid": ""})) for _ in range(3)]
            return [*items, *extra] if rng.random() < 0.5 else [*items] * rng.choice((2, 101, 1001))
        return document

    def _method(self, rng: random.Random, call: Call) -> Case:
        method = rng.choice((*hv.METHODS, "GET" if call.method == "POST" else "POST"))
        return self._send(call, f"method:{method}", method=method)

    def _content_type(self, rng: random.Random, call: Call) -> Case:
        headers = [(k, v) for k, v in call.headers if k.lower() != "content-type"]
        if rng.random() < 0.85:
            headers.append(("Content-Type", rng.choice(hv.BAD_CONTENT_TYPES)))
        return self._send(replace(call, headers=headers), "content-type")

    def _duplicates(self, rng: random.Random, call: Call) -> Case:
        """A field given twice (same or another value), or a JSON key twice, or a header twice."""
        if call.style == "json":
            body = call.body()
            name = ID_FIELD[self.provider]
            dup = f'"{name}": "1", "{name}": "2", '.encode()
            at = body.find(b"{") + 1
            return self._send(replace(call, raw_body=body[:at] + dup + body[at:]), "json:duplicate-key")
        existing = rng.choice(call.fields)
        name = existing.split("=", 1)[0]
        again = existing if rng.random() < 0.3 else f"{name}={hv.query_value(rng) or 'other'}"
        return self._send(replace(call, fields=[*call.fields, again]), f"{call.style}:duplicate-field")

    def _headers(self, rng: random.Random, call: Call) -> Case:
        """Headers added: every one twice, a huge one, many, odd bytes, another host and scheme."""
        kinds: tuple[tuple[str, Callable[[], list[tuple[str, str]]]], ...] = (
            ("headers:twice", lambda: call.headers),
            ("headers:huge", lambda: [("X-Big", "b" * rng.choice((8_000, 70_000)))]),
            ("headers:many", lambda: [(f"X-H{n}", "v") for n in range(rng.choice((50, 150)))]),
            ("headers:odd-bytes", lambda: [("X-Odd", "\xff\xfe\x00v"), ("X-Forwarded-For", hv.text(rng)[:100])]),
            ("headers:host-and-proto", lambda: [("Host", "evil.example"), ("X-Forwarded-Proto", "gopher")]),
        )
        kind, extra = rng.choice(kinds)
        return self._send(replace(call, headers=[*call.headers, *extra()]), kind)

    def _path(self, rng: random.Random, call: Call) -> Case:
        target = call.target()
        kinds: tuple[Callable[[], Case], ...] = (
            lambda: self._send(replace(call, path_suffix="/"), "path:trailing-slash"),
            lambda: self._send(replace(call, path_suffix="/" + hv.segment(rng)), "path:extra-segment"),
            lambda: self._send(call, "path:absolute-form", target=f"http://{self.host}{target}"),
            lambda: self._send(call, "path:double-slash", target=target.replace("/webhooks/", "/webhooks//", 1)),
            # bytes that are not UTF-8 (or NUL, or DEL) in the request line itself, not escaped
            lambda: self._send(call, "path:raw-bytes", target=_with_raw_bytes(rng, call)),
        )
        return rng.choice(kinds)()

    def _framing(self, rng: random.Random, call: Call) -> Case:
        """A Content-Length that lies or is not a number (rarely one longer than the body: it waits for the
        gateway's read timeout), or a chunked body."""
        length = rng.choice(("abc", "-1", "+1", "1, 1", " ", "0x10", "0", "1", "99999999999999999999"))
        if rng.random() < 0.03:
            length = str(len(call.body()) + 10)
        return self._send(call, f"framing:content-length={length.strip()[:12]}", content_length=length)

    def _oversize(self, rng: random.Random, call: Call) -> Case:
        choice = rng.randrange(4)
        if choice == 0:  # a query string of 5-60 KB
            fields = [*call.fields, pair("pad", "p" * rng.choice((5_000, 20_000, 60_000)))]
            if call.style == "query":
                return self._send(replace(call, fields=fields), "oversize:query")
            return self._send(call, "oversize:query", target=call.target() + "?pad=" + "p" * 20_000)
        if choice == 1:  # a body over the webhook's 1 MB
            return self._send(replace(call, raw_body=b"[" + b" " * (1024 * 1024 + 10) + b"]"), "oversize:body-1mb")
        if choice == 2:  # over API Gateway's 10 MB: announced, never sent (the gateway answers first)
            return self._send(call, "oversize:body-10mb", content_length=str(10 * 1024 * 1024 + 1))
        fields = [*call.fields, *(pair(f"f{n}", "v") for n in range(rng.choice((199, 201, 1000))))]
        return self._send(replace(call, fields=fields), f"oversize:{call.style}-fields")

    def _extra_fields(self, rng: random.Random, call: Call) -> Case:
        """Fields the hub keeps as details: injections, odd unicode, NUL bytes, long values."""
        extra = {hv.text(rng)[:64] or "k": hv.text(rng) for _ in range(rng.randint(1, 5))}
        if call.style == "json":
            document = call.document
            for item in document if isinstance(document, list) else [document]:
                item.update(extra)
            return self._send(call, "json:extra-fields")
        fields = [*call.fields, *(pair(k, v) for k, v in extra.items())]
        return self._send(replace(call, fields=fields), f"{call.style}:extra-fields")
