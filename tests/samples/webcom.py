"""webcom: the sample events in events/ and what the hub must make of each (read by the tests)."""

from __future__ import annotations

from typing import Any

from tests.samples.sample import Sample

#: Account keys the sample events need besides the webhook secret in their URL.
KEYS: dict[str, Any] = {}

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "webhook_webcom_states.json",
        200,
        {
            "3234": ("DELIVERED", "deliver", None),
            "3235": ("PENDING", "send", None),
            "3236": ("READ", "read", None),
            "3237": ("FAILED", "not_deliver", None),
            "3238": ("EXPIRED", "expired", None),
            "3239": ("PENDING", "partly_deliver", None),
        },
        acknowledged=(3234, 3235, 3236, 3237, 3238, 3239),
    ),
    Sample(
        "webhook_webcom_mixed.json",
        200,
        {"3240": ("DELIVERED", "deliver", None), "3243": ("FAILED", "not_deliver", None)},
        not_stored=("3241", "3242"),
        acknowledged=(3240, "3243"),
    ),
    Sample("webhook_webcom_not_an_array.json", 400, not_stored=("3244",), reason="must be a JSON array"),
    Sample("webhook_webcom_wrong_secret.json", 403, not_stored=("3245",), reason="wrong secret"),
)
