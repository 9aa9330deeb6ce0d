"""What the scale benchmark judges a tree by: models of what no local engine shows (ingress,
stream shards, the callbacks' queue), fed by the tree's template and the measured figures, and a
pass/fail per item.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from dlrhub_local.template import Template
from dlrhub_measure.aws import tree_template
from dlrhub_measure.functions import stream_mapping
from dlrhub_measure.scale import bill, traffic
from dlrhub_measure.scale.bill import PARTITION_WRITES
from tests.infra.rendered import NO_VALUE, Deployed

#: The measurements of :mod:`dlrhub_measure.scale.checks`, in the order they run.
CHECKS = ("peak", "window", "by-id", "unavailable", "sent")
#: How old a callback may get before EventBridge gives up on it (the target's MaximumEventAgeInSeconds).
CALLBACK_MAX_AGE = 24 * 3600


# -- the template, read as CloudFormation would resolve its defaults ------------------------------


class Resolved:
    """A tree's template with its parameter defaults resolved as CloudFormation would (conditions,
    ``Ref``, ``Fn::If``: tests/infra/rendered.py's ``Deployed``, on the template before the SAM
    transform, which the properties read here do not need)."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.defaults = template.parameter_defaults()
        self._deployed = Deployed("dlrhub", dict(self.defaults), template.doc)

    def value(self, node: Any) -> Any:
        found = self._deployed.resolve(node)
        return None if found is NO_VALUE else found

    def function(self, logical_id: str, name: str) -> Any:
        return self.value(self.template.resources[logical_id].get("Properties", {}).get(name))

    def webhook_throttle(self) -> tuple[float, float]:
        """(rate, burst) of the provider callback routes: their RouteSettings, else the API's default."""
        api = self.template.resources["HttpApi"]["Properties"]
        routes = (api.get("RouteSettings") or {}).items()
        webhooks = [found for key, found in routes if "/webhooks/" in key and key.startswith("POST")]
        default = {"ThrottlingRateLimit": 10_000, "ThrottlingBurstLimit": 5_000} | (
            api.get("DefaultRouteSettings") or {}
        )
        settings = webhooks[0] if webhooks else default
        return float(self.value(settings["ThrottlingRateLimit"])), float(self.value(settings["ThrottlingBurstLimit"]))

    def alarms(self) -> list[dict[str, Any]]:
        return [
            resource.get("Properties", {})
            for resource in self.template.resources.values()
            if resource.get("Type") == "AWS::CloudWatch::Alarm"
        ]

    def alarmed_metrics(self) -> set[tuple[str, str]]:
        """(namespace, metric name) of every metric some alarm watches."""
        found = set()
        for alarm in self.alarms():
            if "MetricName" in alarm:
                found.add((str(self.value(alarm.get("Namespace"))), str(alarm["MetricName"])))
            for metric in alarm.get("Metrics") or []:
                stat = metric.get("MetricStat", {}).get("Metric", {})
                if stat:
                    found.add((str(self.value(stat.get("Namespace"))), str(stat.get("MetricName"))))
        return found

    def stream_event(self) -> dict[str, Any]:
        return stream_mapping(self.template)


# -- the models ----------------------------------------------------------------------------------


def peak_requests(seed: int) -> dict[str, float]:
    """Callback requests a second by provider at the peak (the generator's full-rate seconds)."""
    seconds = traffic.peak_seconds(seed, 3, 1.0)
    found: dict[str, float] = {}
    for second in seconds:
        for provider, count in second.requests().items():
            found[provider] = found.get(provider, 0) + count / len(seconds)
    return found


def ingress(resolved: Resolved, seed: int, webhook_ms: float) -> dict[str, Any]:
    """API Gateway's token bucket (rate, burst) over the peak's 600 s of callback requests."""
    from dlrhub.providers.registry import PROVIDERS  # the harness's: which providers send a refused callback again

    rate, burst = resolved.webhook_throttle()
    demand = peak_requests(seed)
    total = sum(demand.values())
    refused_per_second = max(0.0, total - rate)
    refused = max(0.0, refused_per_second * traffic.PEAK_SECONDS - burst) if refused_per_second else 0.0
    share = refused / (total * traffic.PEAK_SECONDS)
    resends = {p.name: (p.webhook.resends_refused if p.webhook else None) for p in PROVIDERS}
    lost = {p: n * traffic.PEAK_SECONDS * share for p, n in demand.items() if resends.get(p) is False}
    reserved = resolved.function("WebhookFunction", "ReservedConcurrentExecutions")
    concurrency = total * webhook_ms / 1000
    watched = resolved.alarmed_metrics()
    api_alarms = {name for namespace, name in watched if namespace == "AWS/ApiGateway"}
    return {
        "rate": rate,
        "burst": burst,
        "peak_requests": total,
        "refused_share": share,
        "lost": lost,
        "reserved": reserved,
        "concurrency": concurrency,
        "api_alarms": sorted(api_alarms),
        "passed": share == 0 and {"4xx", "5xx"} <= api_alarms,
    }


def stream_capacity(resolved: Resolved, measured: bill.Measured, peak: dict[str, Any], scale: float) -> dict[str, Any]:
    """Shards at 90 days of retention against the stream function's concurrency, the lag a peak
    leaves, and whether TTL removals reach the function."""
    from dlrhub_local.stream_reader import MappingSettings

    retention = int(resolved.defaults.get("RetentionDays") or 90)
    peak_writes = peak["writes_per_second"] / scale
    shards = bill.shards_needed(measured, retention, peak_writes)
    event = resolved.stream_event()
    parallel = int(event.get("ParallelizationFactor", 1))
    reserved = resolved.function("StreamFunction", "ReservedConcurrentExecutions")
    lanes = shards * parallel if reserved is None else min(shards * parallel, int(reserved))
    batch = int(event.get("BatchSize", 100))
    per_lane = batch / max(measured.stream_ms_per_batch / 1000, 1e-3)  # records a second one invocation takes
    capacity = lanes * per_lane
    backlog = max(0.0, peak_writes - capacity) * traffic.PEAK_SECONDS
    lag = backlog / capacity if capacity else math.inf
    alarm = float(resolved.defaults.get("StreamIteratorAgeAlarmSeconds") or 300)
    settings = MappingSettings.from_template(resolved.template, "StreamFunction")
    removal = {
        "eventName": "REMOVE",
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "dynamodb": {"Keys": {"pk": {"S": "MSG#x"}, "sk": {"S": "MSG"}}, "OldImage": {"sk": {"S": "MSG"}}},
    }
    ttl_passes = settings.wanted(removal)
    return {
        "shards": shards,
        "reserved": reserved,
        "lanes": lanes,
        "records_per_second_per_lane": per_lane,
        "peak_records_per_second": peak_writes,
        "lag_seconds": lag,
        "alarm_seconds": alarm,
        "ttl_removals_pass": ttl_passes,
        "passed": (reserved is None or int(reserved) >= shards * parallel) and lag < alarm and not ttl_passes,
    }


def callbacks(resolved: Resolved) -> dict[str, Any]:
    """The API destination's queue over the day's curve: every status change (about 2 a message), and
    final statuses only; the longest wait, and what passes the 24-hour limit."""
    rate = float(resolved.defaults.get("CallbackRateLimit") or 20)
    curve = traffic.day_curve()
    found: dict[str, Any] = {"rate": rate}
    for label, per_message in (("all", bill.EVENTS_PER_MESSAGE), ("final only", 1)):
        per_report = per_message / traffic.REPORTS_PER_MESSAGE
        backlog, longest, lost = 0.0, 0.0, 0.0
        for _ in range(2):  # two days: yesterday's backlog carries over
            for reports in curve:
                backlog = max(0.0, backlog + reports * per_report - rate)
                wait = backlog / rate
                if wait > CALLBACK_MAX_AGE:
                    lost += backlog - rate * CALLBACK_MAX_AGE
                    backlog = rate * CALLBACK_MAX_AGE
                    wait = CALLBACK_MAX_AGE
                longest = max(longest, wait)
        found[label] = {"longest_wait_seconds": longest, "lost_per_day": lost / 2}
    found["passed"] = found["all"]["lost_per_day"] == 0
    return found


def measured_figures(found: dict[str, Any], window_scale: float) -> bill.Measured:
    peak, warm = found["peak"], found["unavailable"]
    return bill.Measured(
        webhook_ms=warm["warm_ms"] or 0.0,
        webhook_log_bytes=warm["log_bytes"],
        units={
            work: peak["units_per_write"].get(work, 0.0) for work in ("registration", "pending report", "final report")
        },
        **bill.stream_and_storage(peak["stream"], peak["sizes"]),
        poll_seconds={
            "window": found["window"]["mean_run_seconds"],
            "by-id": found["by-id"]["mean_invocation_seconds"],
        },
        # one account of 2 M Huawei messages a day, at window_scale: per day at full scale
        poll_units_per_day=found["window"].get("writes_per_run", 0.0) / window_scale * 288,
    )


def judge(
    tree: Path, found: dict[str, Any], seed: int, scale: float, window_scale: float
) -> tuple[dict[str, Any], list[bill.Line]]:
    """Each item (numbered as the report prints them) with its figures and ``passed``; the month's bill."""
    resolved = Resolved(tree_template(tree))
    measured = measured_figures(found, window_scale)
    peak, window, by_id, unavailable, sent = (found[name] for name in CHECKS)
    stream = peak["stream"]
    judged: dict[str, Any] = {}
    judged["1 ingress"] = ingress(resolved, seed, measured.webhook_ms)
    lag = window["checkpoint_lag_seconds"]
    window_passed = (window["coverage"] or 0) >= 0.99 and lag is not None and lag <= 2 * 3600
    judged["2 window"] = _item(window, "coverage", "checkpoint_lag_seconds", passed=window_passed)
    by_id_passed = (
        all(by_id["runs_to_cover"].values()) and by_id["over_timeout"] == 0 and by_id["closed"] >= by_id["stale"]
    )
    judged["3 by id"] = _item(by_id, "runs_to_cover", "over_timeout", "closed", "stale", passed=by_id_passed)
    counted_right = stream["counted"] == stream["expected"]
    judged["4 counters"] = {
        "conflicts": stream["conflicts"],
        "failed_batches": stream["failed_calls"],
        "parked": stream["parked_records"],
        "duplicate_events": stream["events"] - stream["distinct_events"],
        "events_per_change": stream["events"] / max(stream["status_changes"], 1),
        "counters_right": counted_right,
        "passed": stream["parked_records"] == 0
        and stream["events"] == stream["distinct_events"] == stream["status_changes"]
        and counted_right,
    }
    judged["5 stream"] = stream_capacity(resolved, measured, peak, scale)
    unavailable_metrics = set(unavailable["throttled"]["metrics"]) - set(unavailable["stored"]["metrics"])
    watched = {name for _, name in resolved.alarmed_metrics()}
    judged["6 503s"] = {
        "answer": unavailable["throttled"]["status"],
        "metrics": sorted(unavailable_metrics),
        "alarmed": sorted(unavailable_metrics & watched),
        "passed": unavailable["throttled"]["status"] == 503 and bool(unavailable_metrics & watched),
    }
    keys = {}
    for kind, found_keys in peak["peaks"].items():
        for key_kind, (key, writes) in found_keys.items():
            keys[f"{kind}: {key_kind}"] = (key, writes / scale)
    judged["7 hot keys"] = {
        "busiest": max(keys.items(), key=lambda item: item[1][1]),
        "keys": keys,
        "passed": max(writes for _, writes in keys.values()) < PARTITION_WRITES,
    }
    judged["8 callbacks"] = callbacks(resolved)
    judged["9 sent"] = _item(
        sent, "after_event", "after_rule", passed=sent["after_event"] == sent["after_rule"] == "SENT"
    )
    return judged, bill.monthly(tree, measured)


def _item(found: dict[str, Any], *names: str, passed: bool) -> dict[str, Any]:
    """An item's figures (``names`` of ``found``) and whether it passed."""
    return {name: found[name] for name in names} | {"passed": passed}


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds == math.inf:
        return "never"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"


def describe(judged: dict[str, Any]) -> dict[str, str]:
    """One line of figures per item."""
    i, w, b, c, s, u, k, cb, se = (judged[name] for name in judged)
    lost = sum(i["lost"].values())
    return {
        "1 ingress": f"callbacks {i['rate']:,.0f}/s (burst {i['burst']:,.0f}) vs peak {i['peak_requests']:,.0f} req/s:"
        f" {i['refused_share']:.0%} refused, {lost:,.0f} Twilio reports lost a peak; API alarms:"
        f" {', '.join(i['api_alarms']) or 'none'}",
        "2 window": f"coverage {w['coverage']:.1%}, checkpoint {_hours(w['checkpoint_lag_seconds'])} behind"
        if w["coverage"] is not None
        else "no reports due",
        "3 by id": "runs to ask every pending message "
        + ", ".join(f"{a} {n or 'never'}" for a, n in b["runs_to_cover"].items())
        + f"; {b['over_timeout']} invocations past 300 s; closed by rule {b['closed']:,}/{b['stale']:,}",
        "4 counters": f"{c['conflicts']:,} conflicts, {c['failed_batches']:,} failed invocations,"
        f" {c['parked']:,} records parked, {c['duplicate_events']:,} duplicate events,"
        f" counters {'right' if c['counters_right'] else 'wrong'}",
        "5 stream": f"{s['shards']} shards at 90 days, {s['lanes']} invocations at once"
        f" (reserved {s['reserved'] if s['reserved'] is not None else 'none'}); peak lag {_hours(s['lag_seconds'])}"
        f" (alarm {s['alarm_seconds']:.0f} s); TTL removals {'reach' if s['ttl_removals_pass'] else 'filtered from'}"
        " the function",
        "6 503s": f"throttled table: {u['answer']}; metrics only then: {', '.join(u['metrics']) or 'none'};"
        f" alarmed: {', '.join(u['alarmed']) or 'none'}",
        "7 hot keys": f"busiest key {k['busiest'][0]} ({k['busiest'][1][0]}): {k['busiest'][1][1]:,.0f} writes/s"
        f" (limit {PARTITION_WRITES:,})",
        "8 callbacks": f"{cb['rate']:.0f}/s: all changes wait up to {_hours(cb['all']['longest_wait_seconds'])},"
        f" {cb['all']['lost_per_day']:,.0f} lost/day;"
        f" final only up to {_hours(cb['final only']['longest_wait_seconds'])}",
        "9 sent": f"TEXT_SUCCESSFUL isFinal: {se['after_event']}, after the no-receipt rule: {se['after_rule']}",
    }
