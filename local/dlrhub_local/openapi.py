"""``python -m dlrhub_local.openapi``: the customer API's OpenAPI document, from its routes.

The document is generated from the Event Handler routes of functions/api/app.py and
committed as docs/openapi.json; a test fails when the two differ (``make openapi``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from dlrhub_local.gateway import load_module
from dlrhub_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"


def generate(template: Path = ROOT / "template.yaml") -> str:
    os.environ.setdefault("TABLE_NAME", "unused")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    module = load_module(Template(template).functions()["ApiFunction"])
    schema = module.app.get_openapi_json_schema(
        title="DLR Hub customer API",
        version="1",
        description="Register the SMS you sent and read their delivery statuses. "
        "Every route is IAM-authorised (SigV4, service execute-api) when deployed.",
    )
    return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT
    out.write_text(generate())
    print(f"wrote {out}")
