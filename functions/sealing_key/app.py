"""SealingKey (a CloudFormation custom resource, run at deploy only): makes the sealing key, an
SSM SecureString under the AWS managed key, and deletes it with the stack."""

import json
import urllib.request
from typing import Any

import boto3

from kindred.aws.sealing import create_key, delete_key
from kindred.observability import logger


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Create: the key (kept if there); Update: nothing (the name follows the stack's, which
    never changes; rotating is docs/operations.md "Rotate"); Delete: the key. The answer goes
    to CloudFormation's presigned URL, as a custom resource's must."""
    name = str(event["ResourceProperties"]["Name"])
    physical = str(event.get("PhysicalResourceId") or name)
    status, reason = "SUCCESS", ""
    try:
        ssm = boto3.client("ssm")
        if event["RequestType"] == "Create":
            create_key(ssm, name)
            physical = name
        elif event["RequestType"] == "Delete" and physical.startswith("/"):
            delete_key(ssm, physical)  # (a failed Create answered no parameter's name)
    except Exception as exc:  # CloudFormation must hear back, or it waits an hour
        logger.exception("sealing key")
        status, reason = "FAILED", f"{type(exc).__name__} (see the function's log)"
        if event["RequestType"] == "Create":
            physical = f"none-{event['RequestId']}"
    body = {
        "Status": status,
        "Reason": reason or "ok",
        "PhysicalResourceId": physical,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": True,
        "Data": {},
    }
    request = urllib.request.Request(  # noqa: S310 (CloudFormation's https URL)
        event["ResponseURL"],
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": ""},
    )
    with urllib.request.urlopen(request, timeout=8) as answer:  # noqa: S310
        answer.read()
