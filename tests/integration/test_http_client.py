"""The shared HTTP client against a real server (the Infin8linx simulator) on loopback."""

from __future__ import annotations

import time

from dlrhub.adapters.http import MAX_RETRY_AFTER, HttpClient, HttpSettings
from dlrhub_local.simulators.infin8linx import Infin8linxSimulator


def test_a_huge_retry_after_is_honoured_only_up_to_the_cap() -> None:
    with Infin8linxSimulator({"spid": "pw"}) as simulator:
        simulator.throttle_next(1, retry_after=3600)
        client = HttpClient(HttpSettings(retries=2, backoff=0.01, read_timeout=2))
        started = time.monotonic()
        reply = client.request("GET", f"{simulator.url}/sms/state", params={"spid": "spid"})
        took = time.monotonic() - started
    assert reply.status_code == 200  # the retry got through
    assert simulator.requests_to("/sms/state") == 2
    assert MAX_RETRY_AFTER - 0.5 <= took < MAX_RETRY_AFTER + 3


def test_a_post_that_changes_state_is_never_repeated_after_a_5xx() -> None:
    with Infin8linxSimulator({"spid": "pw"}) as simulator:
        simulator.fail_next(1, status=503)
        client = HttpClient(HttpSettings(retries=3, backoff=0.01, read_timeout=2))
        reply = client.request("POST", f"{simulator.url}/sms/monitor", data={"spid": "spid"}, idempotent=False)
    assert reply.status_code == 503
    assert simulator.requests_to("/sms/monitor") == 1
