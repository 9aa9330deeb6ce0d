"""Webcom Mobi simulator (docs/providers.md#webcom-mobi): ``POST /json/state.php``, ``GET /sendsms.php``, JSON webhook.

``/json/state.php``: the body is JSON (``Content-type: text/json``) with ``login`` +
``password`` or ``token``, and ``id_sms`` (a number, a string of digits, or a list of
them). HTTP 400 ``{"error": …}`` with the documented words: ``POST data is missing``
(empty body), ``Incorrect JSON document format`` (not a JSON object), ``Incorrect login
or password``, ``Your account is locked`` (a login in ``locked``). 200: a list with one
``{"id_sms", "time_change_state", "state", "num_parts", "price"}`` per known id
(unknown ids are left out).

``/sendsms.php?user=&pwd=&smsid=`` (or ``token=``): the docs show no reply body, so this
simulator answers ``get_format``:

* ``json`` (default): ``{"state":"deliver","time":"2021-04-26 15:15:03"}``;
* ``array``: the same object in a one-item list;
* ``form``: ``state=deliver&time=2021-04-26+15:15:03`` (form-encoded);
* ``word``: the bare state word (``deliver``);
* ``garbage``: an HTML error page with HTTP 200 (what a broken gateway might send).

``time`` is empty while the state is ``send``. Bad credentials: 403 ``{"error": "Incorrect
login or password"}``; an unknown ``smsid``: 404 ``{"error": "SMS not found"}`` (both
this simulator's choice). Times are in the account's zone (``utc_offset``, +03:00).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import requests

from dlrhub_local.simulators.base import (
    DemoMessage,
    SimRequest,
    SimResponse,
    SimulatorServer,
    json_reply,
    random_secret,
    text_reply,
)

STATES = ("send", "deliver", "read", "not_deliver", "expired", "partly_deliver")


def garbage(status: dict[str, Any]) -> SimResponse:
    """What a broken gateway might send: an HTML error page, with HTTP 200."""
    return SimResponse(200, b"<html><body>Service temporarily unavailable</body></html>", "text/html")


#: ``get_format`` -> the ``/sendsms.php`` reply for ``{"state", "time"}`` (any other format: :func:`garbage`).
GET_REPLIES: dict[str, Callable[[dict[str, Any]], SimResponse]] = {
    "json": lambda status: json_reply(200, status),
    "array": lambda status: json_reply(200, [status]),
    "form": lambda status: text_reply(200, urlencode(status)),
    "word": lambda status: text_reply(200, status["state"]),
}


@dataclass(frozen=True)
class WebcomMessage:
    id_sms: int
    state: str  # the final word ("send": never gets one)
    final_at: float
    num_parts: int = 1
    price: float = 10.6


class WebcomSimulator(SimulatorServer):
    name = provider = "webcom"
    url_key = "base_url"
    demo_messages = (
        DemoMessage("900001", "79161234561", "deliver", 3, push=True),
        DemoMessage("900002", "79161234562", "deliver", 2, push=False),
        DemoMessage("900003", "79161234563", "not_deliver", 4, push=False),
    )

    def __init__(
        self,
        logins: dict[str, str] | None = None,
        *,
        tokens: tuple[str, ...] = (),
        locked: tuple[str, ...] = (),
        get_format: str = "json",
        utc_offset: timedelta = timedelta(hours=3),
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(port=port, clock=clock)
        #: login -> password.
        self.logins: dict[str, str] = dict(logins or {})
        self.tokens = set(tokens)
        self.locked = set(locked)
        self.get_format = get_format
        self.zone = timezone(utc_offset)
        self._messages: dict[int, WebcomMessage] = {}
        #: Webhook pushes made: (id_sms values sent, id_sms values the receiver acknowledged).
        self.pushes: list[tuple[list[int], list[int]]] = []

    def account_secret(
        self,
        *,
        login: str | None = None,
        token: str | None = None,
        query: str = "json",
        webhook_secret: str | None = None,
    ) -> dict[str, str]:
        secret = {
            "webhook_secret": webhook_secret or secrets.token_urlsafe(16),
            "base_url": self.url,
            "query": query,
            "utc_offset": self._offset(),
        }
        if token is not None:
            return {**secret, "token": token}
        login = login or sorted(self.logins)[0]
        return {**secret, "login": login, "password": self.logins[login]}

    # -- the local stack's demo ----------------------------------------------------------

    @classmethod
    def demo_account(cls) -> dict[str, str]:
        return {
            "webhook_secret": random_secret(),
            "utc_offset": "+03:00",
            "login": "demo",
            "password": random_secret(),
            "query": "json",
        }

    @classmethod
    def for_account(cls, keys: dict[str, Any]) -> WebcomSimulator | None:
        logins = {str(keys["login"]): str(keys["password"])} if keys.get("login") and keys.get("password") else {}
        tokens = (str(keys["token"]),) if keys.get("token") else ()
        return cls(logins, tokens=tokens) if logins or tokens else None

    def hand_over(self, message: DemoMessage, keys: dict[str, Any]) -> None:
        self.add(message.message_id, message.outcome, after=message.polls_see_it_after)

    def push_demo(self, webhook_url: str, message: DemoMessage, keys: dict[str, Any]) -> bool:
        return bool(self.push(webhook_url, [int(message.message_id)]))

    @classmethod
    def example(cls, webhook_url: str, keys: dict[str, Any]) -> tuple[str, str]:
        body = '[{"id_sms":82216,"time":"2021-04-26 15:15:03","state":"deliver"}]'
        return "Webcom Mobi JSON webhook", f"curl -d '{body}' '{webhook_url}'"

    # -- data ------------------------------------------------------------------------------

    def _offset(self) -> str:
        minutes = int(self.zone.utcoffset(None).total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def add(self, id_sms: int | str, state: str = "deliver", *, after: float = 0.0) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        with self._lock:
            self._messages[int(id_sms)] = WebcomMessage(int(id_sms), state, time.time() + after)

    def status_of(self, id_sms: int) -> dict[str, Any] | None:
        """``{"state", "time"}`` as the platform would tell it now, or None for an unknown id."""
        with self._lock:
            message = self._messages.get(id_sms)
        if message is None:
            return None
        if time.time() < message.final_at or message.state == "send":
            return {"state": "send", "time": ""}
        when = datetime.fromtimestamp(message.final_at, self.zone).strftime("%Y-%m-%d %H:%M:%S")
        return {"state": message.state, "time": when}

    # -- serving -----------------------------------------------------------------------

    def is_api(self, request: SimRequest) -> bool:
        return (request.method, request.path) in {("POST", "/json/state.php"), ("GET", "/sendsms.php")}

    def error_reply(self, request: SimRequest, code: Any) -> SimResponse:
        return json_reply(400, {"error": str(code)})

    def _credentials_error(self, login: str | None, password: str | None, token: str | None) -> str | None:
        if token:
            return None if token in self.tokens else "Incorrect login or password"
        if not login or self.logins.get(login) != password:
            return "Incorrect login or password"
        return "Your account is locked" if login in self.locked else None

    def route(self, request: SimRequest) -> SimResponse:
        if request.path == "/json/state.php":
            return self._json_state(request)
        return self._get_state(request)

    def _json_state(self, request: SimRequest) -> SimResponse:
        if not request.body.strip():
            return json_reply(400, {"error": "POST data is missing"})
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return json_reply(400, {"error": "Incorrect JSON document format"})
        refused = self._credentials_error(body.get("login"), body.get("password"), body.get("token"))
        if refused:
            return json_reply(400, {"error": refused})
        raw = body.get("id_sms")
        ids = raw if isinstance(raw, list) else [raw]
        if not ids or not all(isinstance(i, int | str) and str(i).isdigit() for i in ids):
            return json_reply(400, {"error": "Incorrect JSON document format"})
        reply = []
        for id_sms in (int(i) for i in ids):
            status = self.status_of(id_sms)
            if status is not None:
                with self._lock:
                    message = self._messages[id_sms]
                reply.append(
                    {
                        "id_sms": id_sms,
                        "time_change_state": status["time"],
                        "state": status["state"],
                        "num_parts": message.num_parts,
                        "price": message.price,
                    }
                )
        return json_reply(200, reply)

    def _get_state(self, request: SimRequest) -> SimResponse:
        refused = self._credentials_error(request.param("user"), request.param("pwd"), request.param("token"))
        if refused:
            return json_reply(403, {"error": refused})
        smsid = request.param("smsid") or ""
        status = self.status_of(int(smsid)) if smsid.isdigit() else None
        if status is None:
            return json_reply(404, {"error": "SMS not found"})
        return GET_REPLIES.get(self.get_format, garbage)(status)

    def push(self, callback_url: str, ids: list[int], *, timeout: float = 5.0) -> list[int]:
        """The JSON webhook: POST ``[{"id_sms","time","state"}]`` with each message's final state (its
        report has come, whatever a status request would say yet); returns the ids acknowledged."""
        now = datetime.now(self.zone).strftime("%Y-%m-%d %H:%M:%S")
        with self._lock:
            items = [{"id_sms": i, "time": now, "state": self._messages[i].state} for i in ids]
        reply = requests.post(callback_url, json=items, timeout=timeout)
        acked: list[int] = []
        if reply.status_code == 200:
            try:
                acked = [int(item["id_sms"]) for item in reply.json()]
            except (ValueError, KeyError, TypeError):
                acked = []
        with self._lock:
            self.pushes.append((list(ids), acked))
        return acked
