"""Template parameters are validated where they are declared, at least as strictly as the code.

Whatever CloudFormation accepts for a parameter that reaches a function's environment, the
function accepts at start-up (its pydantic settings, or the parser the code runs at import):
so nothing deployable fails at import."""

from __future__ import annotations

import inspect
import re
import shlex
import tomllib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dlrhub.runtime import settings as settings_module
from dlrhub.runtime.settings import parse_accounts
from dlrhub_local.template import Template
from tests.support import ROOT, TEMPLATE

Validator = Callable[[str], Any]
BASE_ENV = {"TABLE_NAME": "messages"}
#: Parsers the code runs at import beside the settings models.
EXTRA: dict[str, Validator] = {
    "POLL_ACCOUNTS": parse_accounts,
}
MAX_RANGE = 5_000  # integer ranges up to this size are tried whole


def model_validators() -> dict[str, list[Validator]]:
    """environment variable -> a validation by every settings model that reads it."""
    found: dict[str, list[Validator]] = {}
    for model in vars(settings_module).values():
        if not (
            inspect.isclass(model) and issubclass(model, BaseModel) and model.__module__ == settings_module.__name__
        ):
            continue
        for name in model.model_fields.values():
            alias = name.validation_alias
            if isinstance(alias, str):

                def check(value: str, model: type[BaseModel] = model, alias: str = alias) -> Any:
                    return model.model_validate({**BASE_ENV, alias: value})

                found.setdefault(alias, []).append(check)
    return found


def validators() -> dict[str, list[Validator]]:
    found = model_validators()
    for variable, check in EXTRA.items():
        found.setdefault(variable, []).append(check)
    return found


def parameter_variables() -> dict[str, set[str]]:
    """parameter -> the environment variables the template sets from it (any function)."""
    template = Template(TEMPLATE)
    found: dict[str, set[str]] = {}
    for function in template.functions().values():
        for variable, value in function.environment.items():
            if isinstance(value, dict) and value.get("Ref") in template.doc["Parameters"]:
                found.setdefault(value["Ref"], set()).add(variable)
    return found


PARAMETERS: dict[str, Any] = Template(TEMPLATE).doc["Parameters"]
CHECKED = {
    parameter: sorted(variables & set(validators()))
    for parameter, variables in parameter_variables().items()
    if variables & set(validators())
}


def accept(parameter: str, value: Any) -> None:
    for variable in CHECKED[parameter]:
        for check in validators()[variable]:
            check(str(value))


def test_the_parameters_the_code_validates_are_found() -> None:
    assert {"MonitorWindowMinutes", "PollAccounts", "EventBusName", "PollConcurrency", "PublishEvents"} <= set(CHECKED)


@pytest.mark.parametrize("parameter", sorted(CHECKED))
def test_parameter_is_constrained_where_declared(parameter: str) -> None:
    spec = PARAMETERS[parameter]
    constraints = {"AllowedValues", "AllowedPattern", "MinValue", "MaxValue"} & set(spec)
    assert constraints, f"{parameter} reaches {CHECKED[parameter]} but CloudFormation accepts anything"
    if spec["Type"] == "Number" and "AllowedValues" not in spec:
        assert {"MinValue", "MaxValue"} <= set(spec), f"{parameter}: a number needs both bounds"


@pytest.mark.parametrize("parameter", sorted(p for p in CHECKED if "AllowedValues" in PARAMETERS[p]))
def test_every_allowed_value_is_accepted_by_the_code(parameter: str) -> None:
    for value in PARAMETERS[parameter]["AllowedValues"]:
        accept(parameter, value)
    accept(parameter, PARAMETERS[parameter]["Default"])


@pytest.mark.parametrize(
    "parameter",
    sorted(p for p in CHECKED if PARAMETERS[p]["Type"] == "Number" and "AllowedValues" not in PARAMETERS[p]),
)
def test_every_number_in_the_declared_range_is_accepted_by_the_code(parameter: str) -> None:
    low, high = int(PARAMETERS[parameter]["MinValue"]), int(PARAMETERS[parameter]["MaxValue"])
    values = set(range(low, high + 1))
    if high - low > MAX_RANGE:  # both ends whole, and a thousand steps between
        values = {*range(low, low + 1000), *range(high - 999, high + 1), *range(low, high, (high - low) // 1000)}
    for value in sorted(values):
        accept(parameter, value)


@pytest.mark.parametrize("parameter", sorted(p for p in CHECKED if "AllowedPattern" in PARAMETERS[p]))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_string_the_pattern_allows_is_accepted_by_the_code(parameter: str, data: st.DataObject) -> None:
    pattern = PARAMETERS[parameter]["AllowedPattern"]
    value = data.draw(st.from_regex(pattern, fullmatch=True), label=parameter)
    accept(parameter, value)


def test_monitor_window_refused_by_the_reporter_is_not_deployable() -> None:
    allowed = set(PARAMETERS["MonitorWindowMinutes"]["AllowedValues"])
    assert 7 not in allowed
    assert all(minutes % 5 == 0 and 1440 % minutes == 0 for minutes in allowed)


SCHEDULE_OK = ["rate(5 minutes)", "rate(1 minute)", "rate(1 hour)", "rate(12 hours)", "cron(0/5 * * * ? *)"]
SCHEDULE_BAD = [
    "rate(1 minutes)",
    "rate(0 minutes)",
    "rate(5 minute)",
    "5 minutes",
    "cron(* * *)",
    "at(2026-11-25T10:00:00)",
]


@pytest.mark.parametrize("parameter", ["PollSchedule", "MonitorSchedule"])
def test_schedule_expressions(parameter: str) -> None:
    pattern = re.compile(PARAMETERS[parameter]["AllowedPattern"])
    assert all(pattern.fullmatch(text) for text in SCHEDULE_OK)
    assert not any(pattern.fullmatch(text) for text in SCHEDULE_BAD)
    assert pattern.fullmatch(PARAMETERS[parameter]["Default"])


def test_every_parameter_default_is_allowed() -> None:
    for name, spec in PARAMETERS.items():
        default = spec.get("Default")
        if "AllowedValues" in spec:
            assert default in spec["AllowedValues"], name
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], str(default)), name
        if "MinValue" in spec:
            assert spec["MinValue"] <= float(default) <= spec["MaxValue"], name


def samconfig_overrides() -> dict[str, dict[str, str]]:
    """environment -> parameter overrides of samconfig.toml's deploy sections."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    found = {}
    for env, sections in config.items():
        if not isinstance(sections, dict):
            continue
        text = sections.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        found[env] = dict(pair.split("=", 1) for pair in shlex.split(text))
    return found


def test_samconfig_has_dev_and_prod_stacks_of_their_own() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    names = {env: config[env]["global"]["parameters"]["stack_name"] for env in ("dev", "prod")}
    assert names["dev"] != names["prod"]
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    overrides = samconfig_overrides()
    assert overrides["dev"]["SecretsPrefix"] != overrides["prod"]["SecretsPrefix"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_samconfig_overrides_are_allowed_values(env: str) -> None:
    for name, value in samconfig_overrides()[env].items():
        spec = PARAMETERS[name]
        if "AllowedValues" in spec:
            assert value in {str(v) for v in spec["AllowedValues"]}, name
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), name
        if "MinValue" in spec:
            assert spec["MinValue"] <= float(value) <= spec["MaxValue"], name
        if name in CHECKED:
            accept(name, value)
