"""template.yaml as CloudFormation would deploy it for a given stack name and parameters.

``render()`` runs the SAM transform (tests/infra/sam_render.py in the aws-sam-cli venv);
``Deployed`` then evaluates the Conditions and resolves the intrinsic functions that name
things (``Ref``, ``Fn::Sub``, ``Fn::If``, ``Fn::Join``, ``Fn::GetAtt``) for one stack name,
so that two stacks' physical names can be compared. Values CloudFormation makes up at
deploy time stay symbolic: ``<Logical.Attribute>``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import ROOT, TEMPLATE

RENDER_SCRIPT = Path(__file__).with_name("sam_render.py")
NO_VALUE = object()


def sam_python() -> Path:
    sam = shutil.which("sam") or str(ROOT / ".venv-sam" / "bin" / "sam")
    python = Path(sam).parent / "python"
    if not python.exists():
        raise RuntimeError("the aws-sam-cli virtual environment is missing (make setup)")
    return python


@functools.cache
def render(template: Path = TEMPLATE) -> str:
    """The SAM-transformed template as JSON text (cached: the transform takes a second)."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(sam_python()), str(RENDER_SCRIPT), str(template)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"SAM transform failed:\n{result.stderr}")
    return result.stdout


@dataclass
class Deployed:
    """One stack of the rendered template: its conditions evaluated and its names resolved."""

    stack_name: str
    parameters: dict[str, Any]
    doc: dict[str, Any]
    region: str = "eu-west-1"
    account: str = "123456789012"

    @classmethod
    def of(cls, stack_name: str, **overrides: Any) -> Deployed:
        doc = json.loads(render())
        parameters = {name: spec.get("Default") for name, spec in doc.get("Parameters", {}).items()}
        parameters.update(overrides)
        return cls(stack_name, parameters, doc)

    # --- conditions ------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.doc.get("Conditions", {})[name]))

    def present(self, resource: dict[str, Any]) -> bool:
        return "Condition" not in resource or self.condition(resource["Condition"])

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.doc["Resources"].items() if self.present(res)}

    # --- intrinsic functions ---------------------------------------------------------

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return f"<{name}>"

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            key = match[1]
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in variables:
                return str(self.resolve(variables[key]))
            if "." in key and not key.startswith("AWS::"):
                return f"<{key}>"
            return str(self.ref(key))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value: Any) -> Any:  # noqa: C901, PLR0911, PLR0912 - one branch per intrinsic function
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return self._sub(text, variables)
            if key == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Join":
                return arg[0].join(str(self.resolve(part)) for part in arg[1])
            if key == "Fn::GetAtt":
                target = arg if isinstance(arg, list) else arg.split(".", 1)
                return f"<{target[0]}.{target[1]}>"
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolve(self.doc["Resources"][logical_id].get("Properties", {}))
