"""The functions' log level under Lambda's JSON log format (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core"

_LEVEL = (
    "import logging, sys; from kindred.observability import logger; "
    "print(logging.getLevelName(logger.log_level))"
)


@pytest.mark.parametrize(
    ("log_level", "lambda_level", "expected"),
    [
        ("WARNING", "INFO", "WARNING"),
        ("ERROR", "INFO", "ERROR"),
        ("DEBUG", "DEBUG", "DEBUG"),
        ("INFO", "INFO", "INFO"),
    ],
)
def test_the_functions_log_from_log_level_up_whatever_lambda_passes(
    log_level: str, lambda_level: str, expected: str
) -> None:
    """
    Given LogLevel (POWERTOOLS_LOG_LEVEL) and Lambda's ApplicationLogLevel, kept at INFO so
    that the metrics' EMF lines (no level: INFO to Lambda) are never dropped
    When a function starts
    Then Powertools' Logger logs from LogLevel up, not from Lambda's level (which it would
    otherwise take first)
    """
    env = {
        **os.environ,
        "PYTHONPATH": str(LAYER),
        "POWERTOOLS_LOG_LEVEL": log_level,
        "AWS_LAMBDA_LOG_LEVEL": lambda_level,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
    }
    out = subprocess.run(
        [sys.executable, "-c", _LEVEL], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == expected
