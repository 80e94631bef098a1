"""AWS us-east-1 list prices the benches use, each with its source, and the arithmetic of units.

Looked up on 2026-11-26 (UTC). List prices, before any free tier, Savings Plan or volume tier
beyond the first; the always-free allowances are written beside them and applied only where a
figure says so. Change a price here and every bench follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RETRIEVED = "2026-11-26"
REGION = "us-east-1"
HOURS_PER_MONTH = 730  # AWS's pricing convention for a month
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60


@dataclass(frozen=True)
class Price:
    """One list price: `usd` per `per` units of `unit`."""

    usd: float
    per: float
    unit: str
    source: str
    note: str = ""

    def cost(self, quantity: float) -> float:
        return self.usd * quantity / self.per


_APIGW = "https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs)"
_LAMBDA = "https://aws.amazon.com/lambda/pricing/"
_DDB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
_SQS = "https://aws.amazon.com/sqs/pricing/"
_SM = "https://aws.amazon.com/secrets-manager/pricing/"
_SSM = "https://aws.amazon.com/systems-manager/pricing/ (Parameter Store)"
_CW = "https://aws.amazon.com/cloudwatch/pricing/"
_COGNITO = "https://aws.amazon.com/cognito/pricing/"

# ---- API Gateway WebSocket APIs
APIGW_MESSAGE = Price(
    1.00,
    1e6,
    "message",
    _APIGW,
    "first 1 billion messages a month ($0.80 after); messages sent and received are both "
    "billed, metered in 32 KB increments (a 33 KB message is 2); free tier (12 months only): "
    "1M messages",
)
APIGW_CONNECTION_MINUTE = Price(
    0.25, 1e6, "connection-minute", _APIGW, "free tier (12 months only): 750,000 minutes"
)
APIGW_MESSAGE_INCREMENT_BYTES = 32 * 1024

# ---- Lambda, arm64
LAMBDA_REQUEST = Price(
    0.20, 1e6, "request", _LAMBDA, "always free: 1M requests and 400,000 GB-s a month"
)
LAMBDA_ARM_GB_SECOND = Price(
    0.0000133334,
    1,
    "GB-second",
    _LAMBDA,
    "arm64, first 7.5 billion GB-s a month; billed per 1 ms; since 2025-08-01 the INIT "
    "phase (cold start) of ZIP functions on managed runtimes is billed too "
    "(aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/)",
)
LAMBDA_FULL_VCPU_MB = 1769  # Lambda allocates CPU in proportion to memory: 1,769 MB = 1 vCPU

# ---- DynamoDB on-demand (prices since the 50% cut of 2024-11-01)
DDB_WRITE_UNIT = Price(
    0.625,
    1e6,
    "write request unit",
    _DDB,
    "1 WRU per standard write of up to 1 KB; 2 per item of a transactional write",
)
DDB_READ_UNIT = Price(
    0.125,
    1e6,
    "read request unit",
    _DDB,
    "1 RRU per strongly consistent read of up to 4 KB, 0.5 eventually consistent, 2 transactional",
)
DDB_STORAGE_GB_MONTH = Price(0.25, 1, "GB-month", _DDB, "always free: first 25 GB")

# ---- SQS standard queues
SQS_REQUEST = Price(
    0.40,
    1e6,
    "request",
    _SQS,
    "every API call is a request, each 64 KB chunk of a payload another one; "
    "always free: 1M requests a month",
)
SQS_CHUNK_BYTES = 64 * 1024

# ---- Secrets Manager
SECRET_MONTH = Price(0.40, 1, "secret-month", _SM, "prorated by the hour")
SECRETS_API_CALL = Price(0.05, 10_000, "API call", _SM)

# ---- Systems Manager Parameter Store (the sealing key since issue 14)
SSM_STANDARD_CALL = Price(
    0.0, 10_000, "API call", _SSM, "standard parameters at standard throughput: no charge"
)

# ---- CloudWatch
CW_ALARM_METRIC_MONTH = Price(
    0.10, 1, "standard-resolution alarm metric-month", _CW, "always free: 10 alarm metrics"
)
CW_DASHBOARD_MONTH = Price(
    3.00, 1, "dashboard-month", _CW, "always free: 3 dashboards of up to 50 metrics"
)
CW_LOGS_INGESTED_GB = Price(
    0.50,
    1,
    "GB ingested",
    _CW,
    "Lambda's logs are vended logs: $0.50/GB for the first 10 TB; always free: 5 GB",
)
CW_LOGS_STORED_GB_MONTH = Price(0.03, 1, "GB-month archived", _CW)
CW_CUSTOM_METRIC_MONTH = Price(
    0.30,
    1,
    "custom metric-month",
    _CW,
    "first 10,000 metrics; prorated by the hour, charged only for hours in which the metric "
    "is published (an EMF metric is one per name and dimension set); always free: 10",
)

# ---- Cognito user pools
COGNITO_ESSENTIALS_MAU = Price(
    0.015,
    1,
    "monthly active user",
    _COGNITO,
    "Essentials, the default tier of a new pool: the first 10,000 MAUs a month are free; "
    "Lite: $0.0055",
)


# ---- the units each service bills, from what a call carried


def apigw_messages(payload_bytes: int) -> int:
    """Billed WebSocket messages for one frame or post: one per started 32 KB."""
    return max(1, math.ceil(payload_bytes / APIGW_MESSAGE_INCREMENT_BYTES))


def sqs_requests(payload_bytes: int) -> int:
    """Billed SQS requests for one call carrying this payload: one per started 64 KB."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def write_units(item_bytes: int, *, transactional: bool = False) -> int:
    """WRU of writing one item: one per started KB, twice that inside a transaction."""
    units = max(1, math.ceil(item_bytes / 1024))
    return units * 2 if transactional else units


def read_units(read_bytes: int, *, consistent: bool = True, transactional: bool = False) -> float:
    """RRU of reading this many bytes (an item, or what a Query read): per started 4 KB."""
    blocks = max(1, math.ceil(read_bytes / 4096))
    if transactional:
        return 2.0 * blocks
    return float(blocks) if consistent else blocks / 2


def billed_ms(duration_ms: float) -> int:
    """Lambda's billed duration: rounded up to the next millisecond."""
    return max(1, math.ceil(duration_ms))


def lambda_gb_seconds(duration_ms: float, memory_mb: int) -> float:
    """GB-seconds of one invocation of `duration_ms` at `memory_mb`."""
    return billed_ms(duration_ms) / 1000 * memory_mb / 1024


def lambda_cpu_share(memory_mb: int) -> float:
    """The fraction of one vCPU a function of this memory gets (1,769 MB = one vCPU)."""
    return min(1.0, memory_mb / LAMBDA_FULL_VCPU_MB)


PRICES: dict[str, Price] = {
    "API Gateway WebSocket message": APIGW_MESSAGE,
    "API Gateway connection minute": APIGW_CONNECTION_MINUTE,
    "Lambda request": LAMBDA_REQUEST,
    "Lambda arm64 GB-second": LAMBDA_ARM_GB_SECOND,
    "DynamoDB write request unit": DDB_WRITE_UNIT,
    "DynamoDB read request unit": DDB_READ_UNIT,
    "DynamoDB storage": DDB_STORAGE_GB_MONTH,
    "SQS request": SQS_REQUEST,
    "Secrets Manager secret": SECRET_MONTH,
    "Secrets Manager API call": SECRETS_API_CALL,
    "SSM Parameter Store API call (standard)": SSM_STANDARD_CALL,
    "CloudWatch alarm metric": CW_ALARM_METRIC_MONTH,
    "CloudWatch dashboard": CW_DASHBOARD_MONTH,
    "CloudWatch Logs ingestion": CW_LOGS_INGESTED_GB,
    "CloudWatch Logs storage": CW_LOGS_STORED_GB_MONTH,
    "CloudWatch custom metric": CW_CUSTOM_METRIC_MONTH,
    "Cognito MAU (Essentials)": COGNITO_ESSENTIALS_MAU,
}


def _money(usd: float) -> str:
    if usd < 0.01:
        return f"${usd:.10f}".rstrip("0")
    return f"${usd:.2f}"


def price_table() -> str:
    """The prices as a markdown table (for bench/README.md)."""
    lines = ["| item | list price (us-east-1) | notes | source |", "|---|---|---|---|"]
    for name, p in PRICES.items():
        per = f"{p.per:,.0f} " if p.per != 1 else ""
        lines.append(f"| {name} | {_money(p.usd)} per {per}{p.unit} | {p.note} | {p.source} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(f"us-east-1 list prices, looked up {RETRIEVED}\n")
    print(price_table())
