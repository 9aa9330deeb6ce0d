"""twilio: the sample events in events/ and what the hub must make of each (read by the tests)."""

from __future__ import annotations

from typing import Any

from tests.samples.sample import Sample

#: Account keys the sample events need besides the webhook secret in their URL.
KEYS: dict[str, Any] = {"auth_token": "sample-twilio-auth-token-0123456789"}

SAMPLES: tuple[Sample, ...] = (
    Sample(
        "webhook_twilio_delivered.json",
        200,
        {"SM1342fe1b2c904d1ab04f0fc7a58abca9": ("DELIVERED", "delivered", "+15558675310")},
        body="",
        private=("+15017250604",),
    ),
    Sample(
        "webhook_twilio_sent.json",
        200,
        {"SM1342fe1b2c904d1ab04f0fc7a58abca8": ("SENT", "sent", "+15558675311")},
        body="",
        private=("+15017250604",),
    ),
    Sample(
        "webhook_twilio_undelivered.json",
        200,
        {"SM1342fe1b2c904d1ab04f0fc7a58abca7": ("FAILED", "undelivered", "+15558675312")},
        body="",
        private=("+15017250604",),
    ),
    Sample(
        "webhook_twilio_wrong_signature.json",
        403,
        not_stored=("SM1342fe1b2c904d1ab04f0fc7a58abca6",),
        reason="X-Twilio-Signature does not match",
        private=("+15558675313", "+15017250604"),
    ),
    Sample(
        "webhook_twilio_unsigned.json",
        403,
        not_stored=("SM1342fe1b2c904d1ab04f0fc7a58abca5",),
        reason="no X-Twilio-Signature",
        private=("+15558675314", "+15017250604"),
    ),
    Sample(
        "webhook_twilio_missing_status.json",
        400,
        not_stored=("SM1342fe1b2c904d1ab04f0fc7a58abca4",),
        reason="MessageStatus is missing",
        private=("+15558675315", "+15017250604"),
    ),
)
