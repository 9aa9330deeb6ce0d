"""Print template.yaml as SAM transforms it (JSON), with no AWS account and no build.

Run by the aws-sam-cli virtual environment's Python (it has ``samtranslator``), as
``sam validate`` does it: the code locations become dummy S3 URIs, no managed policy is
looked up. Usage: ``python sam_render.py template.yaml > rendered.json``.
"""

from __future__ import annotations

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def main(path: str) -> None:
    with open(path, encoding="utf-8") as source:
        doc = yaml_parse(source.read())
    for resource in doc.get("Resources", {}).values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://bucket/{props[key]}"
    json.dump(transform(doc, {}, NoManagedPolicies()), sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main(sys.argv[1])
