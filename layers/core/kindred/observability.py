"""The Powertools Logger and Metrics every function shares (service name from the environment)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit

# Practice chats (issue 13, kindred.practice) are never counted: what is done for one runs
# inside `unmetered()`, where no metric is added.
_unmetered: ContextVar[bool] = ContextVar("unmetered", default=False)


class _Metrics(Metrics):
    def add_metric(
        self,
        name: str,
        unit: MetricUnit | str,
        value: float,
        resolution: MetricResolution | int = 60,
    ) -> None:
        if not _unmetered.get():
            super().add_metric(name=name, unit=unit, value=value, resolution=resolution)


@contextmanager
def unmetered(on: bool = True) -> Iterator[None]:
    """Within it (if `on`), no metric is added: the effects of a practice chat."""
    token = _unmetered.set(on or _unmetered.get())
    try:
        yield
    finally:
        _unmetered.reset(token)


# Lambda's ApplicationLogLevel (AWS_LAMBDA_LOG_LEVEL) stays at INFO, so that the metrics' EMF
# lines, which carry no level, are never dropped; Powertools would take it before LogLevel
# (POWERTOOLS_LOG_LEVEL), so it is set aside here: the functions log from LogLevel up.
os.environ.pop("AWS_LAMBDA_LOG_LEVEL", None)
# Never log events or frames: they can carry what a seeker wrote. Log ids and outcomes only.
logger = Logger(service="kindred", log_uncaught_exceptions=True)
metrics: Metrics = _Metrics(namespace="Kindred", service="kindred")

# botocore logs request bodies at DEBUG, and a PostToConnection body is what someone wrote.
# Whatever level an operator gives the root logger (Lambda's ApplicationLogLevel sets it),
# the AWS SDK's own loggers never go below WARNING.
for _sdk_logger in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_sdk_logger).setLevel(logging.WARNING)
