"""The Powertools Logger and Metrics every function shares (service name from the environment)."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics

# Never log events or frames: they can carry what a seeker wrote. Log ids and outcomes only.
logger = Logger(service="kindred", log_uncaught_exceptions=True)
metrics = Metrics(namespace="Kindred", service="kindred")

# botocore logs request bodies at DEBUG, and a PostToConnection body is what someone wrote.
# Whatever level an operator gives the root logger (Lambda's ApplicationLogLevel sets it),
# the AWS SDK's own loggers never go below WARNING.
for _sdk_logger in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_sdk_logger).setLevel(logging.WARNING)
