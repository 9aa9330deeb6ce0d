"""infin8linx: the sample events in events/ and what the hub must make of each (read by the tests)."""

from __future__ import annotations

from typing import Any

from tests.samples.sample import Sample

#: Account keys the sample events need besides the webhook secret in their URL.
KEYS: dict[str, Any] = {}

SAMPLES: tuple[Sample, ...] = (
    Sample("webhook_infin8linx_delivered.json", 200, {"36160109669": ("DELIVERED", "1", "628131565746")}),
    Sample("webhook_infin8linx_pending.json", 200, {"36160109670": ("PENDING", "0", "628131565747")}),
    Sample("webhook_infin8linx_failed.json", 200, {"36160109671": ("FAILED", "2", "628131565748")}),
    Sample(
        "webhook_infin8linx_wrong_secret.json",
        403,
        not_stored=("36160109672",),
        reason="wrong secret",
        private=("628131565749",),
    ),
    Sample(
        "webhook_infin8linx_bad_state.json",
        400,
        not_stored=("36160109673",),
        reason="state must be 0, 1 or 2",
        private=("628131565740",),
    ),
)
