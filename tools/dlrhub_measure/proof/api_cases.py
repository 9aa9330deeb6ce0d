"""Generated requests to the customer API (``POST /messages``, ``GET /messages/…``, ``/refs/…``,
``/accounts/…``, ``/stats``): valid ones, and hostile ones made from them, each from its own seeded
``random.Random``. Locally the API is open (SigV4 is API Gateway's, when deployed): every case counts
as authenticated, and none may be answered 5xx."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dlrhub_measure.proof import hostile_values as hv
from dlrhub_measure.proof.cases import Case
from dlrhub_measure.proof.rawhttp import request_bytes
from dlrhub_measure.proof.webhook_cases import WEBHOOK_PROVIDERS, digits

PROVIDERS = (*WEBHOOK_PROVIDERS, "huawei", "awseum")


def registration(rng: random.Random) -> tuple[dict[str, Any], str]:
    """A valid registration of an Infin8linx or Webcom message (ids never start like a phone number)."""
    phone = "62899" + digits(rng, 7)
    provider = rng.choice(("infin8linx", "webcom"))
    item = {
        "provider": provider,
        "account": "demo",
        "message_id": ("9" if provider == "infin8linx" else "8") + digits(rng, 10),
        "destination": phone,
        "submitted_at": f"2026-11-25T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        "customer_ref": f"ref-{rng.randrange(50)}",
    }
    return item, phone


def _wrong_field(rng: random.Random, items: list[Any]) -> list[Any]:
    """``items`` with a field of one of them (or a new one) set to a wrong type or hostile text."""
    item = rng.choice(items)
    name = rng.choice([*item, "extra"])
    item[name] = rng.choice((hv.wrong_type(rng), hv.text(rng), 10**4000))
    return items


def _odd_times(rng: random.Random, items: list[Any]) -> list[Any]:
    """``items`` each submitted at a time out of range, malformed or not a time."""
    for item in items:
        item["submitted_at"] = rng.choice(
            ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "2026-13-40T25:61:61Z", "now", "1e10", "")
        )
    return items


def _raw_text_body(rng: random.Random) -> bytes:
    """A registration whose id is hostile text, lone surrogates sent as their bytes (not JSON-escaped)."""
    text = hv.text(rng)
    return ('{"messages": [{"provider": "infin8linx", "account": "demo", "message_id": "' + text + '"}]}').encode(
        "utf-8", "surrogatepass"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


class ApiRoutes:
    """``case(phase, index)``: one request to a route of the customer API."""

    route = "api"

    def __init__(self, host: str, seed: int) -> None:
        self.host = host
        self.seed = seed

    def case(self, phase: str, index: int) -> Case:
        rng = random.Random(f"{self.seed}:api:{phase}:{index}")
        make: Callable[[random.Random], Case] = rng.choice(
            (self._register, self._register, self._get_message, self._by_ref, self._by_account, self._stats)
        )
        return replace(make(rng), origin=f"api/{phase}/{index}")

    def _request(
        self,
        rng: random.Random,
        kind: str,
        method: str,
        target: str,
        body: bytes = b"",
        *,
        content_type: str | None = "application/json",
        phones: tuple[str, ...] = (),
    ) -> Case:
        headers = [("Content-Type", content_type)] if content_type is not None else []
        content_length = None
        if rng.random() < 0.05:  # a Content-Length that is not a number, or wrong
            content_length = rng.choice(("x", "-5", "1, 2", "99999999999999999999"))
            kind += "+bad-content-length"
        if rng.random() < 0.05:
            method = rng.choice(hv.METHODS)
            kind += f"+method:{method}"
        data = request_bytes(method, target, self.host, headers=headers, body=body, content_length=content_length)
        fresh = content_length is not None
        return Case("api", kind, data, authenticated=True, phones=phones, head=method == "HEAD", fresh=fresh)

    # -- POST /messages --------------------------------------------------------------------

    def _register(self, rng: random.Random) -> Case:
        pairs = [registration(rng) for _ in range(rng.choice((1, 2, 5)))]
        items: list[Any] = [item for item, _ in pairs]
        phones = tuple(phone for _, phone in pairs)
        valid = {"messages": items}

        def post(kind: str, body: bytes, target: str = "/messages", **options: Any) -> Case:
            return self._request(rng, f"register:{kind}", "POST", target, body, **{"phones": phones, **options})

        shapes = ({"messages": items * 101}, {"messages": []}, {"messages": {}}, {}, [], items)
        kinds: tuple[Callable[[], Case], ...] = (
            lambda: post("valid", hv.json_bytes(valid)),
            lambda: post("not-json-or-deep", hv.bad_json_body(rng)),
            lambda: post("field-value", hv.json_bytes({"messages": _wrong_field(rng, items)})),
            lambda: post("shape", hv.json_bytes(rng.choice(shapes))),
            lambda: post("content-type", hv.json_bytes(valid), content_type=rng.choice(hv.BAD_CONTENT_TYPES)),
            lambda: post("duplicate-key", b'{"messages": ' + hv.json_bytes(items) + b', "messages": [1]}'),
            lambda: post("oversize", b" " * (1024 * 1024 * 2), phones=()),
            lambda: post("raw-text", _raw_text_body(rng), phones=()),
            lambda: post("times", hv.json_bytes({"messages": _odd_times(rng, items)})),
            lambda: post("query", hv.json_bytes(valid), "/messages?" + hv.query_value(rng)),
        )
        return rng.choice(kinds)()

    # -- reads -----------------------------------------------------------------------------

    def _segment(self, rng: random.Random, valid: str) -> str:
        return valid if rng.random() < 0.4 else hv.segment(rng)

    def _get_message(self, rng: random.Random) -> Case:
        provider = self._segment(rng, rng.choice(PROVIDERS))
        account = self._segment(rng, "demo")
        message = self._segment(rng, "9" + digits(rng, 10))
        target = f"/messages/{provider}/{account}/{message}"
        if rng.random() < 0.1:
            target += rng.choice(("/", "/extra", "?x=" + hv.query_value(rng), "%2f..%2f..", "/../../stats"))
        return self._request(rng, "get-message", "GET", target, content_type=None)

    def _cursor(self, rng: random.Random) -> str:
        kinds: tuple[Callable[[], str], ...] = (
            lambda: _b64(hv.deep_json(rng)[:3000]),
            lambda: _b64(json.dumps({"pk": {"S": "MSG#x"}, "sk": {"N": "1"}}).encode()),
            lambda: _b64(b'{"pk": {"S": "STATS#infin8linx#demo"}, "sk": {"S": "x"}}'),
            lambda: "A" * rng.choice((10, 2049, 5000)),
            lambda: _b64(("[" + hv.huge_number(rng) + "]").encode()),
            lambda: hv.query_value(rng),
        )
        return rng.choice(kinds)()

    def _query(self, rng: random.Random, params: dict[str, str]) -> str:
        pairs = [f"{name}={value}" for name, value in params.items()]
        if rng.random() < 0.2:  # a parameter twice
            name = rng.choice(list(params) or ["limit"])
            pairs.append(f"{name}={hv.query_value(rng) or '1'}")
        return "&".join(pairs)

    def _by_ref(self, rng: random.Random) -> Case:
        ref = self._segment(rng, f"ref-{rng.randrange(50)}")
        params: dict[str, str] = {}
        if rng.random() < 0.5:
            params["limit"] = rng.choice(("0", "-1", "101", "1e3", "abc", "", "50", "9" * 30))
        if rng.random() < 0.5:
            params["cursor"] = self._cursor(rng)
        target = f"/refs/{ref}/messages?{self._query(rng, params)}"
        return self._request(rng, "by-ref", "GET", target, content_type=None)

    def _time(self, rng: random.Random, valid: str) -> str:
        return rng.choice(
            (
                valid,
                valid,
                "2026-11-25T00:00:00",  # no zone
                "0001-01-01T00:00:00%2B14:00",
                "9999-12-31T23:59:59-14:00",
                "2026-02-30T00:00:00Z",
                "yesterday",
                "",
                "1" * 40,
                hv.query_value(rng),
            )
        )

    def _by_account(self, rng: random.Random) -> Case:
        provider = self._segment(rng, rng.choice(PROVIDERS))
        account = self._segment(rng, "demo")
        params = {"from": self._time(rng, "2026-11-25T00:00:00Z"), "to": self._time(rng, "2026-11-26T00:00:00Z")}
        if rng.random() < 0.4:
            params["status"] = rng.choice(("DELIVERED", "delivered", "PENDING", "X", "", hv.query_value(rng)))
        if rng.random() < 0.3:
            params["limit"] = rng.choice(("1", "100", "0", "-5", "x"))
        if rng.random() < 0.3:
            params["cursor"] = self._cursor(rng)
        target = f"/accounts/{provider}/{account}/messages?{self._query(rng, params)}"
        return self._request(rng, "by-account", "GET", target, content_type=None)

    def _stats(self, rng: random.Random) -> Case:
        params = {
            "provider": self._segment(rng, rng.choice(PROVIDERS)),
            "account": self._segment(rng, "demo"),
            "from": self._time(rng, "2026-11-25T00:00:00Z"),
            "to": self._time(rng, "2026-11-26T00:00:00Z"),
        }
        if rng.random() < 0.6:
            params["window"] = rng.choice(("300", "3600", "86400", "299", "301", "0", "-300", "1e9", "x", "300.0"))
        for name in list(params):
            if rng.random() < 0.1:
                del params[name]
        return self._request(rng, "stats", "GET", f"/stats?{self._query(rng, params)}", content_type=None)
