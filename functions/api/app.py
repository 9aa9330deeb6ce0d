"""The customer API (IAM-authorised): register sent messages, read their statuses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from dlrhub.domain.inputs import InvalidInput, check_range, parse_json
from dlrhub.domain.replies import (
    ErrorReply,
    MessagePage,
    MessageView,
    ScorecardReply,
    StatsReply,
    message_summary,
    message_view,
)
from dlrhub.domain.status import Status
from dlrhub.runtime.settings import Settings
from dlrhub.runtime.telemetry import cause_of, unavailable
from dlrhub.runtime.tracing import tracer
from dlrhub.services.api import WORKERS, Registrar, RegistrationBatch, RegistrationReply, scorecard, statistics
from dlrhub.table.counters import StatsStore
from dlrhub.table.messages import InvalidCursor, MessageStore
from dlrhub.table.scorecard import ScorecardStore

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)

settings = Settings.from_env()
# one connection per registration writer (registrar.WORKERS), so a batch's writes never wait for one
store = MessageStore(settings.table_name, retention_days=settings.retention_days, max_connections=WORKERS)
registrar = Registrar(store)
stats_store = StatsStore(settings.table_name, client=store.client)
scorecard_store = ScorecardStore(settings.table_name, client=store.client)

Limit = Annotated[int, Query(ge=1, le=100, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]


def _json(model: type, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


ERRORS = {
    400: _json(ErrorReply, "bad request: the message says why"),
    503: _json(ErrorReply, "temporarily unavailable: try again"),
}
READ_ERRORS = {**ERRORS, 404: _json(ErrorReply, "no such message")}


def _error(status_code: int, message: str, errors: list[dict[str, Any]] | None = None) -> Response:
    body = ErrorReply(message=message, errors=errors).model_dump(exclude_none=True)
    return Response(status_code=status_code, content_type="application/json", body=body)


def _page(page: Any) -> MessagePage:
    return MessagePage(items=[message_summary(item) for item in page.items], next_cursor=page.cursor)


@app.post(
    "/messages",
    summary="Register sent messages",
    description="Up to 500 per call. Registering again is not an error and changes nothing. "
    "Invalid items are named in `errors` (422); the valid ones in the same call are stored.",
    responses={
        200: _json(RegistrationReply, "every item stored"),
        422: _json(RegistrationReply, "some items invalid (named in errors); the others stored"),
        415: _json(ErrorReply, "the body is not JSON: send content-type application/json"),
        **ERRORS,
    },
)
def register(batch: Annotated[RegistrationBatch, Body()]) -> Response[RegistrationReply]:
    reply = registrar.register(batch.messages)
    metrics.add_metric(name="MessagesRegistered", unit=MetricUnit.Count, value=reply.registered + reply.merged)
    return Response(status_code=422 if reply.rejected else 200, body=reply, content_type="application/json")


@app.get(
    "/messages/<provider>/<account>/<message_id>",
    summary="One message: status, raw word, history, times, cost",
    responses={200: _json(MessageView, "the message"), **READ_ERRORS},
)
def get_message(
    provider: Annotated[str, Path(max_length=32)],
    account: Annotated[str, Path(max_length=64)],
    message_id: Annotated[str, Path(max_length=128)],
) -> MessageView:
    item = store.get(provider, account, message_id)
    if item is None:
        raise NotFoundError("no such message")
    return message_view(item)


@app.get(
    "/refs/<customer_ref>/messages",
    summary="Messages registered with a customer reference",
    responses={200: _json(MessagePage, "a page of messages"), **ERRORS},
)
def list_by_ref(
    customer_ref: Annotated[str, Path(max_length=128)], limit: Limit = 50, cursor: Cursor = None
) -> MessagePage:
    return _page(store.list_by_ref(customer_ref, limit=limit, cursor=cursor))


@app.get(
    "/accounts/<provider>/<account>/messages",
    summary="Messages of one account submitted in [from, to), oldest first, optionally of one status",
    responses={200: _json(MessagePage, "a page of messages"), **ERRORS},
)
def list_by_account(
    provider: Annotated[str, Path(max_length=32)],
    account: Annotated[str, Path(max_length=64)],
    start: Annotated[datetime, Query(alias="from", description="ISO-8601 with zone")],
    end: Annotated[datetime, Query(alias="to", description="ISO-8601 with zone")],
    status: Annotated[Status | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessagePage:
    check_range(start, end)
    page = store.list_by_account(provider, account, start, end, status=status, limit=limit, cursor=cursor)
    return _page(page)


@app.get(
    "/stats",
    summary="Delivery statistics per window of submission time",
    description="Counts are by the time a message was submitted; receipts that come later still count "
    "for the window the message was submitted in.",
    responses={200: _json(StatsReply, "one entry per window, oldest first"), **ERRORS},
)
def get_stats(
    provider: Annotated[str, Query(max_length=32)],
    account: Annotated[str, Query(max_length=64)],
    start: Annotated[datetime, Query(alias="from", description="ISO-8601 with zone; aligned down to the window")],
    end: Annotated[datetime, Query(alias="to", description="ISO-8601 with zone")],
    window: Annotated[int, Query(ge=300, le=86_400, multiple_of=300, description="window length, seconds")] = 3600,
) -> StatsReply:
    return statistics(stats_store, provider, account, start, end, timedelta(seconds=window))


@app.get(
    "/scorecard",
    summary="Provider scorecard: each provider per account and destination country",
    description="Messages submitted in the hours from `from` (aligned down to the hour) to `to`, per provider, "
    "account and destination country: outcomes, delivery rate, failures by status and raw word, seconds to the "
    "final receipt (histogram and percentiles), cost per delivered message per currency. Receipts that come "
    "later count for the hour the message was submitted in. Figures lag the reports by up to a minute.",
    responses={200: _json(ScorecardReply, "one row per provider, account and country, sorted"), **ERRORS},
)
def get_scorecard(
    start: Annotated[datetime, Query(alias="from", description="ISO-8601 with zone; aligned down to the hour")],
    end: Annotated[datetime, Query(alias="to", description="ISO-8601 with zone; at most 744 hours after from")],
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 (ZZ: unknown)")] = None,
    provider: Annotated[str | None, Query(max_length=32)] = None,
    account: Annotated[str | None, Query(max_length=64)] = None,
) -> ScorecardReply:
    return scorecard(scorecard_store, start, end, country=country, provider=provider, account=account)


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    errors = [{"where": ".".join(str(part) for part in e["loc"]), "reason": e["msg"]} for e in error.errors()]
    return _error(400, "invalid request: " + "; ".join(f"{e['where']}: {e['reason']}" for e in errors[:5]), errors)


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_content_type(error: Exception) -> Response:
    return _error(415, "the body must be JSON: send content-type application/json")


@app.exception_handler(ValueError)
def value_error(error: ValueError) -> Response:
    # Powertools lets a bare ValueError out of body parsing when a multipart/form-data body has no
    # boundary: the client's 415 (the API reads JSON only). Any other ValueError is a failure of ours.
    if app.current_event.headers.get("content-type", "").strip().lower().startswith("multipart/"):
        return unsupported_content_type(error)
    return failed(error)


@app.exception_handler(InvalidInput)
def invalid_input(error: InvalidInput) -> Response:
    return _error(400, str(error))


@app.exception_handler(InvalidCursor)
def invalid_cursor(error: InvalidCursor) -> Response:
    return _error(400, str(error))


@app.exception_handler(BadRequestError)
def bad_request(error: BadRequestError) -> Response:
    return _error(400, error.msg)


@app.exception_handler(NotFoundError)
def not_found(error: NotFoundError) -> Response:
    return _error(404, error.msg)


@app.exception_handler(Exception)
def failed(error: Exception) -> Response:
    logger.exception("request failed")
    unavailable(metrics, cause_of(error))
    return _error(503, "temporarily unavailable, try again")


def unreadable_body(event: dict) -> str | None:
    """Why a JSON body cannot be read (too deep, a number too long, not JSON), before routing:
    the router's own parsing would let RecursionError out as a 503."""
    body = event.get("body")
    if not body or event.get("isBase64Encoded"):
        return None
    try:
        parse_json(body)
    except InvalidInput as error:
        return str(error)
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer().capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    content_type = (event.get("headers") or {}).get("content-type", "")
    reason = unreadable_body(event) if content_type.startswith("application/json") else None
    if reason is not None:
        body = json.dumps({"message": reason})
        return {"statusCode": 400, "headers": {"Content-Type": "application/json"}, "body": body}
    return app.resolve(event, context)
