"""Public AWS prices, US East (N. Virginia), first tier, as looked up on 2026-11-25.

Each price names where it was read. Free tiers are left out (a cost per million is a rate, not a
bill). Change a price here and every figure of ``make bench`` and ``make bench-scale`` follows.
"""

from __future__ import annotations

from dataclasses import dataclass

LOOKED_UP = "2026-11-25"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str


#: The pricing pages the prices were read on.
LAMBDA = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/"
CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
SECRETS_MANAGER = "https://aws.amazon.com/secrets-manager/pricing/"

HTTP_API_REQUEST = Price(
    1.00 / 1e6,
    "HTTP API request (first 300 M a month; metered in 512 KB increments)",
    "https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html",
)
LAMBDA_REQUEST = Price(0.20 / 1e6, "Lambda request", LAMBDA)
LAMBDA_ARM_GB_SECOND = Price(
    0.0000133334,
    "Lambda duration, Arm, per GB-second (first 7.5 billion GB-s a month; billed per 1 ms)",
    f"{LAMBDA} (Arm price; as quoted in https://cloudchipr.com/blog/aws-lambda-pricing)",
)
DYNAMODB_WRITE_UNIT = Price(
    0.625 / 1e6,
    "DynamoDB on-demand write request unit (after the November 2024 cut)",
    f"{DYNAMODB} (as quoted in https://airbyte.com/data-engineering-resources/dynamodb-pricing)",
)
LOGS_INGESTED_GB = Price(
    0.50,
    "CloudWatch Logs ingestion, Standard class, per GB (Lambda logs: first 10 TB tier)",
    f"{CLOUDWATCH} (Lambda tiered logs from 2025-05-01, first tier $0.50/GB: https://www.duckbillgroup.com/?p=9080)",
)
EVENTBRIDGE_EVENT = Price(
    1.00 / 1e6,
    "EventBridge custom event published (each 64 KB chunk of a PutEvents entry)",
    f"{EVENTBRIDGE} (as quoted in https://cloudburn.io/blog/amazon-eventbridge-pricing)",
)
XRAY_TRACE = Price(5.00 / 1e6, "X-Ray trace recorded", "https://aws.amazon.com/xray/pricing/")

#: X-Ray's default sampling rule: the first request each second, then 5 % of the rest.
XRAY_DEFAULT_RATE = 0.05
#: Bytes in a GB of log ingestion (AWS bills data volumes in binary gigabytes).
GB = 1 << 30

# -- the lines of a month's bill beyond the per-report path (make bench-scale) --------------------

DYNAMODB_READ_UNIT = Price(0.125 / 1e6, "DynamoDB on-demand read request unit", DYNAMODB)
DYNAMODB_STORAGE_GB_MONTH = Price(
    0.25, "DynamoDB Standard table class storage, per GB-month (items + 100 B each, index entries too)", DYNAMODB
)
DYNAMODB_PITR_GB_MONTH = Price(
    0.20,
    "DynamoDB continuous backups (point-in-time recovery), per GB-month of table size",
    f"{DYNAMODB} (as quoted in https://finops.com.py/services/dynamodb/backups)",
)
DYNAMODB_STREAM_READ = Price(
    0.0,
    "DynamoDB Streams read request: free when read by a Lambda event source mapping",
    f'{DYNAMODB} ("GetRecords API calls invoked by AWS Lambda as part of DynamoDB triggers are free")',
)
SECRETS_MANAGER_SECRET_MONTH = Price(0.40, "Secrets Manager secret, per month", SECRETS_MANAGER)
SECRETS_MANAGER_CALL = Price(0.05 / 10_000, "Secrets Manager API call (GetSecretValue)", SECRETS_MANAGER)
API_DESTINATION_INVOCATION = Price(0.20 / 1e6, "EventBridge API destination invocation", EVENTBRIDGE)
CLOUDWATCH_METRIC_MONTH = Price(
    0.30, "CloudWatch custom metric, per metric-month (first 10,000), EMF metrics included", CLOUDWATCH
)
CLOUDWATCH_ALARM_METRIC_MONTH = Price(
    0.10, "CloudWatch standard-resolution alarm, per metric in the alarm, per month", CLOUDWATCH
)

#: Hours AWS bills a month by (730): 30.4 days.
MONTH_DAYS = 730 / 24

#: Every price, as the reports list them.
ALL = tuple(value for value in globals().values() if isinstance(value, Price))
