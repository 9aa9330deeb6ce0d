"""vonage: the sample events in events/ and what the hub must make of each (read by the tests)."""

from __future__ import annotations

from typing import Any

from tests.samples.sample import Sample

#: Account keys the sample events need besides the webhook secret in their URL.
KEYS: dict[str, Any] = {
    "signature_secret": "sample-vonage-signature-secret-0123",
    "signature_method": "sha256",
    "signature_required": False,  # the samples are unsigned, but for the two that show a refused signature
}

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "webhook_vonage_delivered_json.json",
        200,
        {"0B00000127FDBC63": ("DELIVERED", "delivered", "447547232824")},
    ),
    Sample("webhook_vonage_expired_get.json", 200, {"0C0000002EEBDA56": ("EXPIRED", "expired", "4527631111")}),
    Sample("webhook_vonage_buffered_form.json", 200, {"0B00000127FDBC64": ("PENDING", "buffered", "447547232825")}),
    Sample(
        "webhook_vonage_wrong_signature.json",
        403,
        not_stored=("0B00000127FDBC65",),
        reason="sig does not match",
        private=("447547232826",),
    ),
    Sample(
        "webhook_vonage_stale_timestamp.json",
        403,
        not_stored=("0B00000127FDBC66",),
        reason="timestamp too old",
        private=("447547232827",),
    ),
    Sample(
        "webhook_vonage_missing_message_id.json",
        400,
        reason="messageId is missing",
        private=("447547232828",),
    ),
)
