"""Fixtures of the template tests: template.yaml as data, its SAM transform, the SAM CLI."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.aws_resources import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

# What samtranslator needs besides the template: no AWS call, no account.
_TRANSFORM_SCRIPT = """
import json, sys
from samtranslator.translator.transform import transform

class NoManagedPolicies:  # the template names no managed policy, so no IAM lookup is needed
    def load(self):
        return {}

template = json.load(sys.stdin)
json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout)
"""


def sam_cli() -> Path:
    """The SAM CLI: $SAM_CLI, else the one `make setup` installs in .venv-sam."""
    return Path(os.environ.get("SAM_CLI", ROOT / ".venv-sam" / "bin" / "sam"))


def run_captured(
    args: list[str], *, env: dict[str, str], timeout: float, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end, its output captured as text; the caller checks how it went."""
    return subprocess.run(
        args, capture_output=True, text=True, env=env, timeout=timeout, check=False, **options
    )


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml, intrinsic functions in their JSON form."""
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="session")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """The plain CloudFormation that the SAM transform makes of template.yaml."""
    packaged = copy.deepcopy(template)
    # As `sam package` does: local code becomes S3 locations, which the translator requires.
    for logical_id, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://kindred-artifacts/{logical_id}.zip"
    return _sam_transform(packaged)


def _sam_transform(packaged: dict[str, Any]) -> dict[str, Any]:
    """Run samtranslator here if it is installed, else with the SAM CLI's python."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    try:
        import samtranslator  # noqa: F401
    except ImportError:
        python = sam_cli().parent / "python"
        if not python.exists():
            pytest.fail(
                "samtranslator is not installed here and there is no SAM CLI at "
                f"{sam_cli()} (run `make setup`, or set SAM_CLI)"
            )
    else:
        python = Path(sys.executable)
    result = run_captured(
        [str(python), "-c", _TRANSFORM_SCRIPT], env=env, timeout=120, input=json.dumps(packaged)
    )
    assert result.returncode == 0, f"the SAM transform failed:\n{result.stderr}"
    return dict(json.loads(result.stdout))
