"""The Powertools Logger and Metrics every function shares (service name from the environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

# Never log events or frames: they can carry what a seeker wrote. Log ids and outcomes only.
logger = Logger(service="kindred", log_uncaught_exceptions=True)
metrics = Metrics(namespace="Kindred", service="kindred")
