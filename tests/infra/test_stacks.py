"""The rendered template, deployed twice in one account and region, and what each stack holds.

Rendered by the SAM transform (tests/infra/rendered.py), as CloudFormation receives it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from dlrhub_local.callbacks import event_pattern
from tests.infra.rendered import Deployed
from tests.support import ROOT

#: Every optional part switched on: callbacks, the alarm e-mail.
EVERYTHING = {
    "CallbackUrl": "https://hooks.example.com/dlr",
    "CallbackAuthSecret": "not-a-real-key",
    "AlarmEmail": "oncall@example.com",
}

#: The property that names a resource, per type whose names are unique per account and region.
NAME_PROPERTIES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Events::Rule": "Name",
    "AWS::Events::Connection": "Name",
    "AWS::Events::ApiDestination": "Name",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::ApiGatewayV2::Api": "Name",
}
#: Types that have no name of their own (or none unique beyond their parent).
UNNAMED = {
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::ApiGatewayV2::Stage",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::KMS::Key",
}
#: The longest stack name the named resources allow (schedule and rule names: 64 characters).
MAX_STACK_NAME = 54
LIMITS = {"AWS::Scheduler::Schedule": 64, "AWS::Events::Rule": 64, "AWS::CloudWatch::Alarm": 255}
FUNCTIONS = (
    "WebhookFunction",
    "ApiFunction",
    "PollerFunction",
    "StreamFunction",
    "ReporterFunction",
    "EventsInFunction",
)


def physical_names(stack: Deployed) -> dict[str, str]:
    """logical id -> physical name, for every resource that is given one."""
    names = {}
    for logical_id, resource in stack.resources.items():
        kind = resource["Type"]
        assert kind in NAME_PROPERTIES or kind in UNNAMED, f"{kind} ({logical_id}): is it named? add it here"
        prop = NAME_PROPERTIES.get(kind)
        props = stack.properties(logical_id)
        if prop and prop in props:
            names[logical_id] = f"{kind} {props[prop]}"
    return names


@pytest.fixture(scope="module")
def dev() -> Deployed:
    return Deployed.of("dlrhub-dev", **EVERYTHING)


@pytest.fixture(scope="module")
def prod() -> Deployed:
    return Deployed.of("dlrhub-prod", **EVERYTHING)


def test_two_stacks_in_one_region_share_no_name(dev: Deployed, prod: Deployed) -> None:
    dev_names, prod_names = physical_names(dev), physical_names(prod)
    assert dev_names.keys() == prod_names.keys()
    clashes = {name for name, count in Counter([*dev_names.values(), *prod_names.values()]).items() if count > 1}
    assert not clashes, f"both stacks would create {sorted(clashes)}"
    for logical_id, name in dev_names.items():
        assert "dlrhub-dev" in name, f"{logical_id} is named {name!r}, not from the stack name"


def test_schedules_are_named_by_the_stack(dev: Deployed) -> None:
    schedules = {k: v for k, v in physical_names(dev).items() if v.startswith("AWS::Scheduler::Schedule")}
    assert set(schedules.values()) == {
        "AWS::Scheduler::Schedule dlrhub-dev-poller",
        "AWS::Scheduler::Schedule dlrhub-dev-reporter",
    }


def test_the_longest_documented_stack_name_fits_every_name() -> None:
    stack = Deployed.of("s" * MAX_STACK_NAME, **EVERYTHING)
    for logical_id, resource in stack.resources.items():
        limit = LIMITS.get(resource["Type"])
        prop = NAME_PROPERTIES.get(resource["Type"])
        name = stack.properties(logical_id).get(prop or "", "")
        if limit and name:
            assert len(name) <= limit, f"{logical_id}: {name!r} is longer than {limit}"


def test_every_function_hides_responses_and_errors_from_traces(dev: Deployed) -> None:
    functions = {k: v for k, v in dev.resources.items() if v["Type"] == "AWS::Lambda::Function"}
    assert set(functions) == set(FUNCTIONS)
    for logical_id in functions:
        props = dev.properties(logical_id)
        env = props["Environment"]["Variables"]
        assert props["TracingConfig"]["Mode"] == "Active", logical_id
        assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false", logical_id
        assert env["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false", logical_id
        assert env["POWERTOOLS_SERVICE_NAME"] == "dlrhub-dev", f"{logical_id}: metrics of two stacks would mix"
        for variable in (
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            "AWS_ENDPOINT_URL_EVENTBRIDGE",
        ):
            assert env[variable] == "", f"{logical_id}: {variable} must stay empty in AWS"


def test_stream_mapping_skips_the_hubs_own_writes_and_parks_failures(dev: Deployed) -> None:
    [mapping] = [k for k, v in dev.resources.items() if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    props = dev.properties(mapping)
    [pattern] = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["MSG"]}}}}
    # the exactly-once checkpoint is kept per shard: Lambda names the shard only with a window
    assert props["TumblingWindowInSeconds"] > 0
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == "<StreamFailureQueue.Arn>"
    assert props["BisectBatchOnFunctionError"] is True


def watched_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(namespace, metric, first dimension's value) of each metric an alarm reads."""
    if "MetricName" in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"][0]["Value"])]
    found = []
    for query in alarm.get("Metrics", []):
        metric = query.get("MetricStat", {}).get("Metric")
        if metric:
            found.append((metric["Namespace"], metric["MetricName"], metric["Dimensions"][0]["Value"]))
    return found


def alarms_of(stack: Deployed) -> dict[str, dict[str, Any]]:
    return {k: stack.properties(k) for k, v in stack.resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_function_has_error_and_throttle_alarms_on_rates(dev: Deployed) -> None:
    """A count of 1 pages on noise at a billion invocations: each alarm divides by the invocations."""
    for function in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            [alarm] = [
                a for a in alarms_of(dev).values() if ("AWS/Lambda", metric, f"<{function}>") in watched_metrics(a)
            ]
            assert ("AWS/Lambda", "Invocations", f"<{function}>") in watched_metrics(alarm), (function, metric)
            [rate] = [query for query in alarm["Metrics"] if query.get("ReturnData")]
            assert "/" in rate["Expression"], (function, metric)
            assert 0 < float(alarm["Threshold"]) < 1, (function, metric)


def test_503_answers_and_the_apis_4xx_and_5xx_have_rate_alarms(dev: Deployed) -> None:
    watched = {metric for alarm in alarms_of(dev).values() for metric in watched_metrics(alarm)}
    assert ("DLRHub", "Unavailable", "dlrhub-dev") in watched
    assert ("AWS/ApiGateway", "5xx", "<HttpApi>") in watched
    assert ("AWS/ApiGateway", "4xx", "<HttpApi>") in watched
    assert ("AWS/ApiGateway", "Count", "<HttpApi>") in watched


def test_callback_routes_are_throttled_apart_from_the_customer_api(dev: Deployed) -> None:
    api = dev.properties("HttpApiApiGatewayDefaultStage")
    routes = api["RouteSettings"]
    for method in ("GET", "POST"):
        route = routes[f"{method} /webhooks/{{provider}}/{{account}}/{{secret}}"]
        assert (route["ThrottlingRateLimit"], route["ThrottlingBurstLimit"]) == (4000, 4000)
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == 1000
    assert dev.properties("WebhookFunction")["ReservedConcurrentExecutions"] == 250
    assert "ReservedConcurrentExecutions" not in dev.properties("StreamFunction")  # one per shard, uncapped


def test_the_table_cannot_be_deleted_by_accident_and_log_levels_reach_lambda(dev: Deployed) -> None:
    assert dev.properties("MessagesTable")["DeletionProtectionEnabled"] is True
    config = dev.properties("WebhookFunction")["LoggingConfig"]
    assert config["LogFormat"] == "JSON"
    mapping, level, key = config["ApplicationLogLevel"]["Fn::FindInMap"]
    assert level == dev.parameters.get("LogLevel", "INFO")
    names = {name: entry[key] for name, entry in dev.doc["Mappings"][mapping].items()}
    assert names == {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR"}  # Lambda's words
    assert set(names) == set(dev.doc["Parameters"]["LogLevel"]["AllowedValues"])


def test_the_poller_may_start_only_itself(dev: Deployed) -> None:
    properties = dev.properties("PollerFunction")
    assert properties["FunctionName"] == "dlrhub-dev-poller"
    role = dev.properties("PollerFunctionRole")
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    [invoke] = [s for s in statements if "lambda:InvokeFunction" in s["Action"]]
    assert invoke["Resource"].endswith(":function:dlrhub-dev-poller")


def runbook_anchors() -> set[str]:
    text = (ROOT / "docs" / "operations.md").read_text()
    headings = re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-") for heading in headings}


def test_every_alarm_notifies_the_topic_and_has_a_runbook(dev: Deployed) -> None:
    anchors = runbook_anchors()
    alarms = {k: dev.properties(k) for k, v in dev.resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(alarms) >= 19
    for logical_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == ["<AlarmTopic>"], logical_id
        match = re.search(r"docs/operations\.md#([a-z0-9-]+)", alarm["AlarmDescription"])
        assert match, f"{logical_id}: the description names no runbook"
        assert match[1] in anchors, f"{logical_id}: docs/operations.md has no section #{match[1]}"


def test_alarms_and_dashboard_read_the_functions_namespace(dev: Deployed) -> None:
    namespace = dev.doc["Resources"]["StreamFunction"]["Properties"]["Environment"]["Variables"][
        "POWERTOOLS_METRICS_NAMESPACE"
    ]
    body = dev.properties("Dashboard")["DashboardBody"]
    dashboard = json.loads(body)
    assert f"SCHEMA({namespace}, provider, service" in body
    assert all(widget["properties"].get("region", "eu-west-1") == "eu-west-1" for widget in dashboard["widgets"])
    own = [dev.properties(k) for k, v in dev.resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"]
    assert {a["Namespace"] for a in own if "Namespace" in a} <= {namespace, "AWS/Lambda", "AWS/SQS"}


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(dev: Deployed) -> None:
    topic = dev.properties("AlarmTopic")
    assert topic["KmsMasterKeyId"] == "<StackKey>"
    statements = dev.properties("StackKey")["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in statements)


def test_every_log_group_is_encrypted_with_the_stacks_key_which_logs_may_use(dev: Deployed) -> None:
    groups = {name: r["Properties"] for name, r in dev.resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert len(groups) >= 7
    key = {"Fn::GetAtt": ["StackKey", "Arn"]}
    assert all(props.get("KmsKeyId") == key for props in groups.values()), groups
    statements = dev.properties("StackKey")["KeyPolicy"]["Statement"]
    [logs] = [s for s in statements if s["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}]
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context.endswith(":log-group:/dlrhub/dlrhub-dev/*")
    assert dev.properties("AlarmEmailSubscription")["Endpoint"] == "oncall@example.com"
    assert "AlarmEmailSubscription" not in Deployed.of("quiet").resources


def test_callbacks_retry_for_a_day_then_park_in_an_encrypted_queue(dev: Deployed) -> None:
    [target] = dev.properties("CallbackRule")["Targets"]
    assert target["Arn"] == "<CallbackDestination.Arn>"
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert target["DeadLetterConfig"]["Arn"] == "<CallbackDeadLetterQueue.Arn>"
    assert target["InputPath"] == "$.detail"
    assert dev.properties("CallbackDeadLetterQueue")["SqsManagedSseEnabled"] is True
    [grant] = dev.properties("CallbackDeadLetterQueuePolicy")["PolicyDocument"]["Statement"]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert grant["Condition"] == {"ArnEquals": {"aws:SourceArn": "<CallbackRule.Arn>"}}
    connection = dev.properties("CallbackConnection")
    assert connection["AuthParameters"]["ApiKeyAuthParameters"]["ApiKeyValue"] == "not-a-real-key"


def test_callback_pattern_matches_this_stacks_events_and_settled_only_on_request(dev: Deployed) -> None:
    pattern = dev.properties("CallbackRule")["EventPattern"]
    assert pattern == {
        "source": ["dlrhub"],
        "detail-type": ["Message status changed"],
        "resources": ["<MessagesTable.Arn>"],
    }
    final_only = Deployed.of("dlrhub-dev", **EVERYTHING, CallbackFinalOnly="true")
    assert final_only.properties("CallbackRule")["EventPattern"]["detail"] == {
        "settled": [True]
    }  # final statuses and SENT
    basic = Deployed.of("dlrhub-dev", **EVERYTHING, CallbackAuthType="BASIC", CallbackAuthName="hub")
    assert basic.properties("CallbackConnection")["AuthParameters"] == {
        "BasicAuthParameters": {"Username": "hub", "Password": "not-a-real-key"}
    }


@pytest.mark.parametrize("off", [{"CallbackUrl": ""}, {"PublishEvents": "false"}])
def test_no_callback_resources_without_a_url_or_without_events(off: dict[str, Any]) -> None:
    stack = Deployed.of("dlrhub-dev", **{**EVERYTHING, **off})
    assert not [name for name in stack.resources if name.startswith("Callback")]


@pytest.mark.parametrize("final_only", [False, True])
def test_local_callbacks_use_the_deployed_rules_pattern(final_only: bool) -> None:
    stack = Deployed.of("dlrhub-dev", **EVERYTHING, CallbackFinalOnly=str(final_only).lower())
    assert stack.properties("CallbackRule")["EventPattern"] == event_pattern("<MessagesTable.Arn>", final_only)


def test_each_providers_delivery_rate_alarms_against_its_own_baseline(dev: Deployed) -> None:
    """One anomaly-detection alarm per provider of the registry, on its DeliveryOutcome (Average: the rate),
    quiet under the minimum volume (the stream function emits the metric: tests/integration/test_stream_handler)."""
    from dlrhub.providers.registry import PROVIDERS

    found = {}
    for logical_id, alarm in alarms_of(dev).items():
        queries = {query["Id"]: query for query in alarm.get("Metrics", [])}
        if alarm.get("ThresholdMetricId") != "band":
            continue
        assert queries["band"]["Expression"] == "ANOMALY_DETECTION_BAND(busy, 3)", logical_id
        assert queries["busy"]["Expression"] == "IF(FILL(finals, 0) >= 50, rate)", logical_id
        assert alarm["ComparisonOperator"] == "LessThanLowerThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        stats = {queries[i]["MetricStat"]["Stat"]: queries[i]["MetricStat"]["Metric"] for i in ("rate", "finals")}
        assert set(stats) == {"Average", "SampleCount"}
        assert stats["Average"] == stats["SampleCount"]
        metric = stats["Average"]
        assert metric["MetricName"] == "DeliveryOutcome"
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dimensions["service"] == "dlrhub-dev"
        found[dimensions["provider"]] = alarm["AlarmName"]
    assert set(found) == {provider.name for provider in PROVIDERS}
    assert found["vonage"] == "dlrhub-dev-delivery-baseline-vonage"
    body = json.loads(dev.properties("Dashboard")["DashboardBody"])
    searches = [
        m[0]["expression"]
        for w in body["widgets"]
        for m in w["properties"].get("metrics", [])
        if isinstance(m, list) and m and isinstance(m[0], dict)
    ]
    assert any('MetricName="DeliveryOutcome" service="dlrhub-dev"' in s and "'Average'" in s for s in searches)
    assert any('MetricName="SecondsToFinal"' in s and "'p95'" in s for s in searches)
