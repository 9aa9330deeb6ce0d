"""innopaas: the sample events in events/ and what the hub must make of each (read by the tests)."""

from __future__ import annotations

from typing import Any

from tests.samples.sample import Sample

#: Account keys the sample events need besides the webhook secret in their URL.
KEYS: dict[str, Any] = {"receiver": "sample-receiver", "pswd": "sample-pswd-change-me"}

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "webhook_innopaas_seed_example.json", 200, {"627239445736452096": ("DELIVERED", "DELIVRD", "8618888888888")}
    ),
    Sample(
        "webhook_innopaas_array.json",
        200,
        {
            "627239445736452097": ("FAILED", "UNDELIV", "008613800138000"),
            "627239445736452098": ("REJECTED", "MBBLACK", "8613900139000"),
        },
    ),
    Sample(
        "webhook_innopaas_wrong_pswd.json",
        403,
        not_stored=("627239445736452099",),
        reason="receiver/pswd",
        private=("8613700137000", "not-the-pswd"),
    ),
    Sample("webhook_innopaas_missing_msgid.json", 400, reason="msgid is missing", private=("8613600136000",)),
    Sample("webhook_innopaas_unknown_status.json", 200, {"627239445736452101": ("FAILED", "MK:0005", "8613500135000")}),
)
