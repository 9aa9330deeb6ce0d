"""awseum: the sample events in events/ and what the hub must make of each (read by the tests)."""

from __future__ import annotations

from typing import Any

from tests.samples.sample import Sample

#: Account keys the sample events need besides the webhook secret in their URL.
KEYS: dict[str, Any] = {}

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "eventbridge_awseum_successful.json",
        200,
        {"ed23196c-75ce-4727-93ee-7bf72b64998f": ("SENT", "TEXT_SUCCESSFUL", None)},
    ),
    Sample(
        "eventbridge_awseum_delivered.json",
        200,
        {"9539975a-e71f-45f3-b496-8d98dc098a77": ("DELIVERED", "TEXT_DELIVERED", None)},
    ),
    Sample(
        "eventbridge_awseum_blocked.json",
        200,
        {"4c3e5b0e-2f4d-4a8e-9d59-3f0c1c6a7b21": ("REJECTED", "TEXT_BLOCKED", None)},
    ),
    Sample(
        "eventbridge_awseum_carrier_unreachable_not_final.json",
        200,
        {"4c3e5b0e-2f4d-4a8e-9d59-3f0c1c6a7b22": ("PENDING", "TEXT_CARRIER_UNREACHABLE", None)},
    ),
    Sample(
        "eventbridge_awseum_missing_message_id.json",
        400,
        reason="detail.messageId is missing",
        private=("+18445550123",),
    ),
)
