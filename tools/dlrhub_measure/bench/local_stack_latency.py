"""Reply times of the local stack per route, over real HTTP: ``python -m dlrhub_measure.bench.local_stack_latency``.

Starts the local stack (``python -m dlrhub_local``) on a free port, registers a few messages,
then sends each route its requests one after another on one keep-alive connection and prints
p50 / p95 / max in milliseconds. Each route stops at ``--requests`` or ``--budget`` seconds,
whichever comes first. The numbers are the local stack's (DynamoDB Local, moto server, the
functions in one process), not AWS's.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from dlrhub_measure import stats
from dlrhub_measure.engines import local_stack
from tests.api_support import registration_item
from tests.stack_process import StackProcess
from tests.support import innopaas_seed_example

WARM_UP = 5
SEEDED = 20
BATCH = 100
DAY = {"from": "2026-11-25T00:00:00Z", "to": "2026-11-26T00:00:00Z"}

#: One request of a route: the session, the stack, a number unique to this request -> the reply.
Send = Callable[[requests.Session, StackProcess, int], requests.Response]


@dataclass(frozen=True)
class Result:
    route: str
    times_ms: list[float]
    errors: int

    def row(self) -> str:
        times, longest = self.times_ms, max(self.times_ms, default=float("nan"))
        p50, p95 = stats.percentile(times, 50), stats.percentile(times, 95)
        return f"{self.route:<40} {len(times):>5} {p50:>8.1f} {p95:>8.1f} {longest:>8.1f} {self.errors:>6}"


def infin8linx_callback(http: requests.Session, stack: StackProcess, n: int) -> requests.Response:
    query = {"msgid": str(900_000_000 + n), "das": "628131565746", "state": "1"}
    return http.get(stack.webhook_url("infin8linx"), params=query, timeout=30)


def webcom_post(http: requests.Session, stack: StackProcess, n: int) -> requests.Response:
    body = [{"id_sms": 500_000 + n, "time": "2026-11-25 13:15:03", "state": "deliver"}]
    return http.post(stack.webhook_url("webcom"), json=body, timeout=30)


def innopaas_post(http: requests.Session, stack: StackProcess, n: int) -> requests.Response:
    account = stack.account("innopaas")
    body = innopaas_seed_example(
        receiver=account["receiver"],
        pswd=account["pswd"],
        msgid=str(627_239_445_736_000_000 + n),
        reportTime="1795604400000",
    )
    return http.post(stack.webhook_url("innopaas"), json=body, timeout=30)


def register_batch(http: requests.Session, stack: StackProcess, n: int) -> requests.Response:
    items = [registration_item(f"bench-{n}-{i}", minute=i, customer_ref=f"batch-{n}") for i in range(BATCH)]
    return http.post(f"{stack.url}/messages", json={"messages": items}, timeout=60)


def get_message(http: requests.Session, stack: StackProcess, n: int) -> requests.Response:
    return http.get(f"{stack.url}/messages/infin8linx/demo/seed-{n % SEEDED}", timeout=30)


def list_by_ref(http: requests.Session, stack: StackProcess, _: int) -> requests.Response:
    return http.get(f"{stack.url}/refs/bench-seed/messages", timeout=30)


def list_by_account(http: requests.Session, stack: StackProcess, _: int) -> requests.Response:
    query = {**DAY, "status": "PENDING", "limit": "50"}
    return http.get(f"{stack.url}/accounts/infin8linx/demo/messages", params=query, timeout=30)


ROUTES: dict[str, Send] = {
    "GET  webhook infin8linx (callback)": infin8linx_callback,
    "POST webhook webcom": webcom_post,
    "POST webhook innopaas": innopaas_post,
    f"POST /messages ({BATCH} items)": register_batch,
    "GET  /messages/{p}/{a}/{id}": get_message,
    "GET  /refs/{ref}/messages": list_by_ref,
    "GET  /accounts/{p}/{a}/messages?status": list_by_account,
}


def seed(http: requests.Session, stack: StackProcess) -> None:
    items = [registration_item(f"seed-{i}", minute=i, customer_ref="bench-seed") for i in range(SEEDED)]
    reply = http.post(f"{stack.url}/messages", json={"messages": items}, timeout=30)
    if reply.status_code != 200:
        raise SystemExit(f"seeding failed: {reply.status_code} {reply.text}")


def measure(route: str, send: Send, http: requests.Session, stack: StackProcess, count: int, budget: float) -> Result:
    numbers = itertools.count()
    for _ in range(WARM_UP):
        send(http, stack, next(numbers))
    times: list[float] = []
    errors = 0
    deadline = time.monotonic() + budget
    while len(times) < count and time.monotonic() < deadline:
        started = time.perf_counter()
        reply = send(http, stack, next(numbers))
        times.append((time.perf_counter() - started) * 1000)
        errors += not reply.ok
    return Result(route, times, errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dlrhub_measure.bench.local_stack_latency", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per route (default 200)")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per route at most (default 30)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, local_stack(Path(tmp), quiet=False) as (stack, _):
        print(f"local stack on {stack.url}; {args.requests} requests per route, {args.budget:.0f} s at most each")
        with requests.Session() as http:
            seed(http, stack)
            results = [measure(r, send, http, stack, args.requests, args.budget) for r, send in ROUTES.items()]
    print(f"\n{'route':<40} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
    for result in results:
        print(result.row())
    failed = sum(result.errors for result in results)
    if failed:
        print(f"\n{failed} replies were not 2xx")
    print(f"\n{sum(len(r.times_ms) for r in results)} timed requests, after {WARM_UP} untimed per route")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
