"""Reading template.yaml: the table definition, the HTTP API routes, the functions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """PyYAML loader that keeps CloudFormation short-form tags as their long form."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    authorization: str | None = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class EventRule:
    """An ``EventBridgeRule`` event of a function: its pattern, on the default bus unless named."""

    function: str
    name: str
    pattern: dict[str, Any]
    bus: str = "default"


@dataclass(frozen=True)
class Function:
    logical_id: str
    source: Path
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    #: Seconds (its own Timeout, else the template's Globals, else Lambda's default, 3).
    timeout: int = 3

    @property
    def short_name(self) -> str:
        """The name a person calls it by: its code's directory (``webhook`` for functions/webhook)."""
        return self.source.parent.name


class Template:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.parent
        self.doc = load(path)

    @property
    def resources(self) -> dict[str, Any]:
        return self.doc["Resources"]

    def parameter_defaults(self) -> dict[str, Any]:
        return {name: spec.get("Default") for name, spec in self.doc.get("Parameters", {}).items()}

    def table_definition(self, logical_id: str, table_name: str) -> dict[str, Any]:
        """``CreateTable`` arguments for the table resource, as the template defines it."""
        props = self.resources[logical_id]["Properties"]
        args: dict[str, Any] = {
            "TableName": table_name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        return args

    def functions(self) -> dict[str, Function]:
        globals_ = self.doc.get("Globals", {}).get("Function", {})
        found = {}
        for logical_id, props in self._function_properties():
            module, _, handler = props["Handler"].rpartition(".")
            source = self.root / props["CodeUri"] / f"{module.replace('.', '/')}.py"
            env = {
                **globals_.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            timeout = int(props.get("Timeout", globals_.get("Timeout", 3)))
            found[logical_id] = Function(logical_id, source, handler, env, timeout)
        return found

    def http_routes(self) -> list[Route]:
        return [
            Route(props["Method"].upper(), props["Path"], function, props.get("Auth", {}).get("Authorizer"))
            for function, _, props in self._events("HttpApi")
        ]

    def event_rules(self) -> list[EventRule]:
        """Every function's ``EventBridgeRule`` events (rules with a pattern; schedules are not here)."""
        rules = []
        for function, name, props in self._events("EventBridgeRule"):
            bus = props.get("EventBusName", "default")
            rules.append(EventRule(function, name, props["Pattern"], bus if isinstance(bus, str) else "default"))
        return rules

    def table_logical_ids(self) -> list[str]:
        return [name for name, res in self.resources.items() if res["Type"] == "AWS::DynamoDB::Table"]

    def stream_events(self, logical_id: str) -> dict[str, dict[str, Any]]:
        """The function's ``DynamoDB`` events (event source mappings): name -> properties."""
        return {name: props for function, name, props in self._events("DynamoDB") if function == logical_id}

    def _function_properties(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource["Type"] == "AWS::Serverless::Function":
                yield logical_id, resource["Properties"]

    def _events(self, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(function, event name, properties) for each event of type ``kind`` of every function."""
        for logical_id, props in self._function_properties():
            for name, event in props.get("Events", {}).items():
                if event["Type"] == kind:
                    yield logical_id, name, event.get("Properties", {})
