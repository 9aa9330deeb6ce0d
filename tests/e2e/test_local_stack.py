"""The README's run command: the local stack over real HTTP, as a newcomer uses it."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from dlrhub.table.keys import message_key, typed_key
from tests.stack_process import StackProcess, local_stack
from tests.support import innopaas_seed_example

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    with local_stack(Path(tmp_path_factory.mktemp("stack")) / "local.json") as running:
        yield running


def secret(stack: StackProcess) -> str:
    return stack.account("infin8linx")["webhook_secret"]


def item(stack: StackProcess, message_id: str) -> dict | None:
    client = boto3.client("dynamodb", endpoint_url=stack.dynamodb)
    key = typed_key(message_key("infin8linx", "demo", message_id))
    return client.get_item(TableName=stack.table, Key=key).get("Item")


def test_callback_is_stored_and_shown(stack: StackProcess) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/{secret(stack)}"
    reply = requests.get(url, params={"msgid": "36160109669", "das": "628131565746", "state": "1"}, timeout=10)
    assert (reply.status_code, reply.text) == (200, "OK")
    line = stack.wait_for_line(r"stored .*36160109669")
    assert "DELIVERED" in line
    assert "628131565746" not in line  # the number is masked on screen
    assert item(stack, "36160109669")["status"]["S"] == "DELIVERED"


def test_wrong_secret_is_403_and_stores_nothing(stack: StackProcess) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/wrong-secret"
    reply = requests.get(url, params={"msgid": "555", "state": "1"}, timeout=10)
    assert reply.status_code == 403
    assert item(stack, "555") is None


def test_malformed_callback_is_400_with_the_reason(stack: StackProcess) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/{secret(stack)}"
    reply = requests.get(url, params={"msgid": "556", "state": "9"}, timeout=10)
    assert reply.status_code == 400
    assert "state must be 0, 1 or 2" in reply.text
    assert item(stack, "556") is None


def test_out_of_order_and_duplicate_callbacks_over_http(stack: StackProcess) -> None:
    url = f"{stack.url}/webhooks/infin8linx/demo/{secret(stack)}"
    for state in ("2", "0", "2", "1"):
        assert requests.get(url, params={"msgid": "557", "state": state}, timeout=10).status_code == 200
    assert item(stack, "557")["status"]["S"] == "FAILED"


def test_unknown_route_is_404(stack: StackProcess) -> None:
    assert requests.get(f"{stack.url}/nothing/here", timeout=10).status_code == 404


WEBCOM_PUSH = [
    {"id_sms": 4101, "time": "2021-04-26 15:15:03", "state": "deliver"},
    {"id_sms": 4102, "time": "", "state": "send"},
    {"id_sms": 4103, "time": "2021-04-27 01:30:00", "state": "read"},
    {"id_sms": 4104, "time": "26.04.2021 15:15", "state": "deliver"},  # malformed: left out, sent again
]


def test_webcom_push_is_acknowledged_stored_and_readable(stack: StackProcess) -> None:
    reply = requests.post(stack.webhook_url("webcom"), json=WEBCOM_PUSH, timeout=10)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == [{"id_sms": 4101}, {"id_sms": 4102}, {"id_sms": 4103}]
    stack.wait_for_lines(
        [
            r"stored .*webcom/demo 4101 -> DELIVERED \(raw 'deliver', webhook\)",
            r"stored .*webcom/demo 4102 -> PENDING \(raw 'send', webhook\)",
            r"stored .*webcom/demo 4103 -> READ \(raw 'read', webhook\)",
        ]
    )

    # Times without a zone are read at the account's utc_offset (+03:00 in the generated config).
    expected = {
        "4101": ("DELIVERED", True, "2021-04-26T12:15:03.000Z"),
        "4102": ("PENDING", False, None),
        "4103": ("READ", True, "2021-04-26T22:30:00.000Z"),
    }
    for sent in WEBCOM_PUSH[:3]:
        message_id = str(sent["id_sms"])
        status, final, provider_time = expected[message_id]
        view = stack.message("webcom", message_id)
        assert view.status_code == 200, view.text
        body = view.json()
        assert (body["provider"], body["account"], body["message_id"]) == ("webcom", "demo", message_id)
        assert (body["status"], body["final"], body["raw_status"]) == (status, final, sent["state"])
        assert body.get("provider_time") == provider_time
        assert body["event_time"] == (provider_time or body["received_at"])
        assert body["source"] == "webhook"
        assert body["provider_details"] == {"time": sent["time"], "state": sent["state"]}
        assert [(h["status"], h["raw_status"]) for h in body["history"]] == [(status, sent["state"])]
    assert stack.message("webcom", "4104").status_code == 404


def innopaas_push(stack: StackProcess, **changes: str) -> dict[str, str]:
    """InnoPaaS's example report, with the demo account's receiving credentials."""
    account = stack.account("innopaas")
    return innopaas_seed_example(**{"receiver": account["receiver"], "pswd": account["pswd"], **changes})


def test_innopaas_push_is_stored_and_readable(stack: StackProcess) -> None:
    push = innopaas_push(stack)
    reply = requests.post(stack.webhook_url("innopaas"), json=push, timeout=10)
    assert (reply.status_code, reply.text) == (200, "OK")
    line = stack.wait_for_line(r"stored .*innopaas/demo 627239445736452096")
    assert "-> DELIVERED (raw 'DELIVRD', webhook)" in line
    assert line.rstrip().endswith("to 8618*******88")  # the number is masked on screen

    view = stack.message("innopaas", "627239445736452096")
    assert view.status_code == 200, view.text
    body = view.json()
    assert (body["status"], body["final"], body["raw_status"]) == ("DELIVERED", True, "DELIVRD")
    assert body["provider_time"] == "2025-06-10T08:52:20.967Z"  # reportTime 1749545540967 (ms)
    assert body["destination"] == "8618888888888"
    assert body["cost"] == {"amount": "0.0567", "currency": "CNY", "parts": 1}
    columns = {"receiver", "pswd", "msgid", "mobile", "status"}
    assert body["provider_details"] == {key: value for key, value in push.items() if key not in columns}
    assert [(h["status"], h["raw_status"]) for h in body["history"]] == [("DELIVERED", "DELIVRD")]
    assert push["pswd"] not in view.text
    assert push["receiver"] not in view.text


def test_innopaas_wrong_pswd_is_403_and_stores_nothing(stack: StackProcess) -> None:
    push = innopaas_push(stack, msgid="627239445736452199", pswd="not-the-pswd")
    reply = requests.post(stack.webhook_url("innopaas"), json=push, timeout=10)
    assert reply.status_code == 403
    assert stack.message("innopaas", "627239445736452199").status_code == 404


def test_ctrl_c_stops_everything(stack: StackProcess) -> None:
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(20) == 0
    for port in (int(endpoint.rsplit(":", 1)[1]) for endpoint in (stack.dynamodb, stack.moto, stack.url)):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
