"""The provider simulators over raw HTTP: the documented checks and error codes, the knobs, the pushes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from dlrhub.providers.huawei import sign_request
from dlrhub.providers.infin8linx import sign
from dlrhub_local.simulators import HuaweiSimulator, Infin8linxSimulator, InnoPaaSSimulator, WebcomSimulator

TIMEOUT = 5


@pytest.fixture
def infin8linx() -> Iterator[Infin8linxSimulator]:
    with Infin8linxSimulator({"spid-1": "password-1"}) as simulator:
        yield simulator


def state_query(simulator: Infin8linxSimulator, msgid: str, **override: Any) -> dict[str, Any]:
    timestamp = int(time.time() + override.pop("skew", 0))  # signed correctly for that timestamp
    params = {"spid": "spid-1", "pwd": sign("spid-1", "password-1", timestamp), "timestamp": str(timestamp)}
    params |= {"msgid": msgid, **override}
    return requests.get(f"{simulator.url}/sms/state", params=params, timeout=TIMEOUT).json()


# -- Infin8linx -------------------------------------------------------------------------------


def test_infin8linx_state_answers_known_ids_and_reports_the_final_state_when_due(
    infin8linx: Infin8linxSimulator,
) -> None:
    infin8linx.add("100123", 1)
    infin8linx.add("100124", 2, after=0.5)
    assert state_query(infin8linx, "100123,100124,999") == {
        "code": 0,
        "msg": "Success",
        "data": [{"msgid": "100123", "state": 1}, {"msgid": "100124", "state": 0}],
    }
    time.sleep(0.6)
    assert state_query(infin8linx, "100124")["data"] == [{"msgid": "100124", "state": 2}]


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"spid": "nobody"}, 103),
        ({"pwd": "0" * 32}, 104),
        ({"skew": -12}, 102),  # signed correctly, but outside ±10 s
        ({"skew": 30}, 102),
        ({"msgid": ""}, 101),
        ({"pwd": ""}, 101),
        ({"msgid": ",".join(str(i) for i in range(101))}, 109),
    ],
)
def test_infin8linx_state_refusals(infin8linx: Infin8linxSimulator, override: dict[str, Any], code: int) -> None:
    msgid = override.pop("msgid", "1")
    assert state_query(infin8linx, msgid, **override)["code"] == code


def test_infin8linx_state_takes_exactly_100_ids(infin8linx: Infin8linxSimulator) -> None:
    assert state_query(infin8linx, ",".join(str(i) for i in range(100)))["code"] == 0


def test_infin8linx_monitor_records_each_report(infin8linx: Infin8linxSimulator) -> None:
    form = {"spid": "spid-1", "start_time": "1601028870", "end_time": "1601032470", "total": "120", "success": "117"}
    reply = requests.post(f"{infin8linx.url}/sms/monitor", data=form, timeout=TIMEOUT)
    assert reply.json() == {"code": 0, "msg": "Success"}
    assert [(r.spid, r.start_time, r.total, r.success) for r in infin8linx.monitor_reports] == [
        ("spid-1", 1601028870, 120, 117)
    ]
    assert (
        requests.post(f"{infin8linx.url}/sms/monitor", data={**form, "spid": "x"}, timeout=TIMEOUT).json()["code"]
        == 103
    )
    assert (
        requests.post(f"{infin8linx.url}/sms/monitor", data={"spid": "spid-1"}, timeout=TIMEOUT).json()["code"] == 101
    )
    assert len(infin8linx.monitor_reports) == 1


def test_faults_are_taken_in_order_one_per_request(infin8linx: Infin8linxSimulator) -> None:
    infin8linx.fail_next(1, 502)
    infin8linx.throttle_next(1, retry_after=7)
    infin8linx.code_next(2, 120)
    infin8linx.malform_next(1)
    url = f"{infin8linx.url}/sms/state"
    replies = [requests.get(url, timeout=TIMEOUT) for _ in range(6)]
    assert [r.status_code for r in replies] == [502, 429, 200, 200, 200, 200]
    assert replies[1].headers["Retry-After"] == "7"
    assert [r.json()["code"] for r in replies[2:4]] == [120, 120]
    with pytest.raises(requests.JSONDecodeError):  # cut short: not JSON
        replies[4].json()
    assert replies[5].json()["code"] == 101  # then the normal answer: fields missing
    assert infin8linx.requests == infin8linx.requests_to("/sms/state") == 6


def test_latency_and_stalls_delay_answers_and_stop_does_not_wait(infin8linx: Infin8linxSimulator) -> None:
    infin8linx.latency = 0.3
    started = time.monotonic()
    state_query(infin8linx, "1")
    assert time.monotonic() - started >= 0.3
    infin8linx.latency = 0
    infin8linx.stall_next(1, seconds=30)
    with pytest.raises(requests.Timeout):
        requests.get(f"{infin8linx.url}/sms/state", timeout=0.3)
    started = time.monotonic()
    infin8linx.stop()
    assert time.monotonic() - started < 3


def test_unknown_paths_are_404_and_not_counted(infin8linx: Infin8linxSimulator) -> None:
    assert requests.get(f"{infin8linx.url}/sms/send", timeout=TIMEOUT).status_code == 404
    assert requests.post(f"{infin8linx.url}/sms/state", timeout=TIMEOUT).status_code == 404
    assert infin8linx.requests == 0


# -- a receiver for the pushes ------------------------------------------------------------------


class Receiver:
    """A tiny HTTP server that records what it is sent and answers ``reply``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []
        self.reply: Any = b"OK"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.calls.append((self.command, self.path, body))
                reply = receiver.reply(body) if callable(receiver.reply) else receiver.reply
                self.send_response(200)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/secret"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def test_infin8linx_push_is_the_documented_get(infin8linx: Infin8linxSimulator, receiver: Receiver) -> None:
    infin8linx.add("36160109669", 1, das="628131565746")
    assert infin8linx.push(receiver.url, "36160109669") == 200
    [(method, path, _)] = receiver.calls
    assert method == "GET"
    assert urlsplit(path).path == "/hook/secret"
    assert parse_qs(urlsplit(path).query) == {"msgid": ["36160109669"], "das": ["628131565746"], "state": ["1"]}


# -- Huawei ---------------------------------------------------------------------------------------


@pytest.fixture
def huawei() -> Iterator[HuaweiSimulator]:
    with HuaweiSimulator(project_id="p1", sign_ids=("s1",), keys={"AK1": "SK1"}, tokens=("t1",)) as simulator:
        yield simulator


def report_url(simulator: HuaweiSimulator, query: str, project: str = "p1") -> str:
    return f"{simulator.url}/v2/{project}/notifications/sms/report?{query}"


def signed_get(url: str, sk: str = "SK1", when: datetime | None = None, **headers: str) -> requests.Response:
    signed = sign_request("GET", url, {"Content-Type": "application/json"}, "AK1", sk, when or datetime.now(UTC))
    return requests.get(url, headers={**signed, **headers}, timeout=TIMEOUT)


WINDOW = "end_time=9999999999999&sign_id=s1&start_time=0"


def test_huawei_a_signed_request_gets_the_reports_of_the_window(huawei: HuaweiSimulator) -> None:
    now = time.time()
    huawei.add("m-in", 1, submitted=now - 10)
    huawei.add("m-later", 2, status_desc="REJECTD", submitted=now - 5, after=60)
    huawei.add("m-before", 1, submitted=now - 3600)
    window = f"start_time={int((now - 60) * 1000)}&end_time={int(now * 1000)}&sign_id=s1"
    reply = signed_get(report_url(huawei, window))
    assert reply.status_code == 200
    body = reply.json()
    assert [(e["message_id"], e["status"], e["status_desc"]) for e in body["data"]] == [
        ("m-in", 1, "DELIVRD"),
        ("m-later", 0, None),  # no status yet
    ]
    assert body["count"] == 2
    assert body["data"][0]["deliver_time"].endswith("Z")
    assert body["data"][1]["deliver_time"] is None
    assert set(body) == {"request_id", "count", "data"}


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ("unsigned", "Authorization header missing"),
        ("wrong sk", "verify aksk signature fail"),
        ("query changed after signing", "verify aksk signature fail"),
        ("old date", "too far"),
        ("bad token", "token is invalid"),
    ],
)
def test_huawei_authentication_failures_are_401_apigw(huawei: HuaweiSimulator, tamper: str, why: str) -> None:
    url = report_url(huawei, WINDOW)
    if tamper == "unsigned":
        reply = requests.get(url, timeout=TIMEOUT)
    elif tamper == "wrong sk":
        reply = signed_get(url, sk="SK2")
    elif tamper == "query changed after signing":
        signed = sign_request("GET", url, {}, "AK1", "SK1", datetime.now(UTC))
        reply = requests.get(url + "&limit=5", headers=signed, timeout=TIMEOUT)
    elif tamper == "old date":
        reply = signed_get(url, when=datetime.now(UTC) - timedelta(minutes=20))
    else:
        reply = requests.get(url, headers={"X-Auth-Token": "t2"}, timeout=TIMEOUT)
    assert reply.status_code == 401
    body = reply.json()
    assert body["error_code"] == "APIGW.0301"
    assert why in body["error_msg"]


def test_huawei_a_token_is_taken(huawei: HuaweiSimulator) -> None:
    reply = requests.get(report_url(huawei, WINDOW), headers={"X-Auth-Token": "t1"}, timeout=TIMEOUT)
    assert reply.status_code == 200


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("end_time=1&sign_id=s1", "SMN.0014"),
        ("start_time=0&sign_id=s1", "SMN.0014"),
        ("start_time=0&end_time=1", "SMN.0014"),
        ("start_time=abc&end_time=1&sign_id=s1", "SMN.0014"),
        ("start_time=5&end_time=1&sign_id=s1", "SMN.0014"),
        (WINDOW + "&limit=101", "SMN.0015"),
        (WINDOW + "&limit=0", "SMN.0015"),
        (WINDOW + "&offset=-1", "SMN.0015"),
        (WINDOW + "&offset=x", "SMN.0015"),
    ],
)
def test_huawei_bad_queries_are_400_smn(huawei: HuaweiSimulator, query: str, code: str) -> None:
    reply = signed_get(report_url(huawei, query))
    assert reply.status_code == 400
    assert reply.json()["code"] == code
    assert set(reply.json()) == {"request_id", "code", "message"}


def test_huawei_another_project_is_refused(huawei: HuaweiSimulator) -> None:
    assert signed_get(report_url(huawei, WINDOW, project="p2")).status_code == 403


@pytest.mark.parametrize(("mode", "counts"), [("page", [100, 100, 50]), ("total", [250, 250, 250])])
def test_huawei_offset_limit_paging_and_both_count_readings(mode: str, counts: list[int]) -> None:
    with HuaweiSimulator(project_id="p1", sign_ids=("s1",), keys={"AK1": "SK1"}, count_mode=mode) as simulator:
        now = time.time()
        for i in range(250):
            simulator.add(f"m{i:03d}", 1, submitted=now - 1000 + i)
        seen, found_counts = [], []
        for offset in (0, 100, 200):
            body = signed_get(report_url(simulator, f"{WINDOW}&offset={offset}&limit=100")).json()
            seen += [entry["message_id"] for entry in body["data"]]
            found_counts.append(body["count"])
    assert seen == [f"m{i:03d}" for i in range(250)]
    assert found_counts == counts


# -- Webcom ----------------------------------------------------------------------------------------


@pytest.fixture
def webcom() -> Iterator[WebcomSimulator]:
    with WebcomSimulator({"login": "pw", "frozen": "pw2"}, tokens=("tok",), locked=("frozen",)) as simulator:
        yield simulator


def json_state(simulator: WebcomSimulator, body: bytes | str) -> requests.Response:
    headers = {"Content-type": "text/json; charset=utf-8"}
    return requests.post(f"{simulator.url}/json/state.php", data=body, headers=headers, timeout=TIMEOUT)


def test_webcom_json_state(webcom: WebcomSimulator) -> None:
    webcom.add(82216, "deliver")
    webcom.add(82217, "read", after=60)
    reply = json_state(webcom, json.dumps({"login": "login", "password": "pw", "id_sms": [82216, "82217", 1]}))
    assert reply.status_code == 200
    first, second = reply.json()
    assert (first["id_sms"], first["state"], second["state"], second["time_change_state"]) == (
        82216,
        "deliver",
        "send",
        "",
    )
    assert datetime.strptime(first["time_change_state"], "%Y-%m-%d %H:%M:%S")
    assert set(first) == {"id_sms", "time_change_state", "state", "num_parts", "price"}
    by_token = json_state(webcom, json.dumps({"token": "tok", "id_sms": 82216, "detail": 0}))
    assert by_token.json()[0]["state"] == "deliver"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "POST data is missing"),
        ("{not json", "Incorrect JSON document format"),
        ("[1, 2]", "Incorrect JSON document format"),
        ('{"login": "login", "password": "nope", "id_sms": 1}', "Incorrect login or password"),
        ('{"token": "nope", "id_sms": 1}', "Incorrect login or password"),
        ('{"login": "frozen", "password": "pw2", "id_sms": 1}', "Your account is locked"),
        ('{"login": "login", "password": "pw", "id_sms": "x1"}', "Incorrect JSON document format"),
    ],
)
def test_webcom_json_state_errors_are_400(webcom: WebcomSimulator, body: str, error: str) -> None:
    reply = json_state(webcom, body)
    assert (reply.status_code, reply.json()) == (400, {"error": error})


@pytest.mark.parametrize(
    ("shape", "text"),
    [
        ("json", '{"state":"deliver","time":"T"}'),
        ("array", '[{"state":"deliver","time":"T"}]'),
        ("form", "state=deliver&time=T"),
        ("word", "deliver"),
    ],
)
def test_webcom_get_reply_formats(webcom: WebcomSimulator, shape: str, text: str) -> None:
    webcom.add(82216, "deliver")
    told = webcom.status_of(82216)
    assert told is not None
    webcom.get_format = shape
    reply = requests.get(
        f"{webcom.url}/sendsms.php", params={"user": "login", "pwd": "pw", "smsid": "82216"}, timeout=TIMEOUT
    )
    expected = text.replace(
        "T", told["time"] if shape != "form" else told["time"].replace(" ", "+").replace(":", "%3A")
    )
    assert (reply.status_code, reply.text) == (200, expected)


def test_webcom_get_refusals(webcom: WebcomSimulator) -> None:
    url = f"{webcom.url}/sendsms.php"
    assert requests.get(url, params={"user": "login", "pwd": "x", "smsid": "1"}, timeout=TIMEOUT).status_code == 403
    assert requests.get(url, params={"token": "tok", "smsid": "404"}, timeout=TIMEOUT).status_code == 404


def test_webcom_push_posts_an_array_and_reads_the_acknowledgement(webcom: WebcomSimulator, receiver: Receiver) -> None:
    webcom.add(3234, "deliver")
    webcom.add(3235, "not_deliver")
    receiver.reply = b'[{"id_sms":3234}]'
    assert webcom.push(receiver.url, [3234, 3235]) == [3234]
    [(method, _, body)] = receiver.calls
    assert method == "POST"
    assert [(item["id_sms"], item["state"]) for item in json.loads(body)] == [(3234, "deliver"), (3235, "not_deliver")]
    assert webcom.pushes == [([3234, 3235], [3234])]


# -- InnoPaaS --------------------------------------------------------------------------------------


@pytest.fixture
def innopaas() -> Iterator[InnoPaaSSimulator]:
    with InnoPaaSSimulator({"acc": "pw"}) as simulator:
        yield simulator


def pull(simulator: InnoPaaSSimulator, body: Any) -> dict[str, Any]:
    return requests.post(f"{simulator.url}/pull/report", json=body, timeout=TIMEOUT).json()


def test_innopaas_pull_returns_and_deletes_the_due_reports(innopaas: InnoPaaSSimulator) -> None:
    for i in range(30):
        innopaas.add("acc", f"m{i}", "DELIVRD")
    innopaas.add("acc", "m-later", "REJECTD", after=60)
    first = pull(innopaas, {"account": "acc", "password": "pw"})  # count defaults to 20
    assert (first["code"], first["error"], len(first["result"])) == (0, "", 20)
    assert set(first["result"][0]) == {"batchSeq", "mobile", "msgid", "reportTime", "status"}
    second = pull(innopaas, {"account": "acc", "password": "pw", "count": 100})
    assert [item["msgid"] for item in second["result"]] == [f"m{i}" for i in range(20, 30)]
    assert pull(innopaas, {"account": "acc", "password": "pw", "count": 100})["result"] == []
    assert innopaas.held("acc") == 1  # only the one not due yet


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"account": "acc", "password": "pw", "count": 101}, 104),
        ({"account": "acc", "password": "pw", "count": 0}, 104),
        ({"account": "acc", "password": "pw", "count": "10"}, 104),
        ({"account": "acc", "password": "nope"}, 103),
        ({"account": "other", "password": "pw"}, 103),
        ([1, 2], 101),
    ],
)
def test_innopaas_pull_refusals_keep_the_reports(innopaas: InnoPaaSSimulator, body: Any, code: int) -> None:
    innopaas.add("acc", "m1")
    assert pull(innopaas, body)["code"] == code
    assert innopaas.held("acc") == 1


def test_innopaas_push_sends_every_documented_field(innopaas: InnoPaaSSimulator, receiver: Receiver) -> None:
    innopaas.add("acc", "627239445736452096", "DELIVRD")
    assert innopaas.push(receiver.url, "acc", "627239445736452096", "account", "password") == 200
    [(method, _, body)] = receiver.calls
    item = json.loads(body)
    assert method == "POST"
    assert (item["receiver"], item["pswd"], item["msgid"], item["status"]) == (
        "account",
        "password",
        "627239445736452096",
        "DELIVRD",
    )
    documented = {"batchSeq", "unitPrice", "countryNumber", "mnc", "mnoName", "notifyTime", "fee", "mobile", "mcc"}
    documented |= {"requestTime", "uid", "regionCode", "accessNumber", "currency", "reportTime", "smsNum"}
    assert documented <= set(item)
    assert all(isinstance(value, str) for value in item.values())
    assert innopaas.held("acc") == 0  # pushed, so not pulled as well
