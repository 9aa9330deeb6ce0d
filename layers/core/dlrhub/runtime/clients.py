"""AWS clients: one boto3 session per process, timeouts on every call.

Every client of a function comes from one session, so the second and later clients reuse
the loaded endpoint and model data (a second session costs about as much as the first).
Each call has connect and read timeouts and at most ``attempts`` tries, so an endpoint
that hangs gives a quick error (a webhook answers 503 and the provider retries) instead
of running into the function's timeout. Parameters are not validated client-side: the
hub builds its requests itself and DynamoDB validates them anyway.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# A DynamoDB, Secrets Manager or EventBridge call answers in milliseconds; one silent for 1.5 s
# is hung. Two tries: a hung table answers a webhook 503 in about 3.5 s (the proof's faults
# suite measures it), well inside the function's timeout; with 3 s and 3 tries it took 12.6 s.
# Every caller has a retry above this one (the provider, the stream's batch, the next run).
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.5
ATTEMPTS = 2


@functools.cache
def session() -> boto3.session.Session:
    return boto3.session.Session()


def client(
    service: str,
    *,
    pool: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    attempts: int = ATTEMPTS,
) -> Any:
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": attempts, "mode": "standard"},
        max_pool_connections=pool,
        parameter_validation=False,
    )
    return session().client(service, config=config)
