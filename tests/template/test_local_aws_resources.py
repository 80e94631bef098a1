"""local/aws_resources.py creates what the template declares on moto, and the functions' env."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.aws_resources import (
    DEFAULT_STACK_NAME,
    UnresolvedReferenceError,
    create_resources,
    function_environment,
)
from tests.template.conftest import TEMPLATE_PATH

REGION = "us-east-1"
LOCAL_ENDPOINT = "http://127.0.0.1:8081/live"


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in-process, with create_resources run on template.yaml."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield create_resources(TEMPLATE_PATH, boto3.session.Session(region_name=REGION), None)


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def test_the_table_exists_with_its_keys_and_ttl(created: dict[str, str]) -> None:
    """
    Given the template's table
    When create_resources runs against moto
    Then the table exists, keyed pk/sk on demand, with TTL on expiresAt
    """
    dynamodb = _client("dynamodb")
    table = dynamodb.describe_table(TableName=created["KindredTable"])["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=created["KindredTable"])

    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiresAt",
    }
    assert created["KindredTable.Arn"] == table["TableArn"]


def test_the_match_queue_redrives_to_its_dead_letter_queue(created: dict[str, str]) -> None:
    """
    Given the match queue and its DLQ
    When create_resources runs against moto
    Then the queue has the template's visibility timeout, encryption and a redrive policy
    naming the created DLQ's ARN with 5 receives
    """
    sqs = _client("sqs")
    queue = sqs.get_queue_attributes(QueueUrl=created["MatchQueue"], AttributeNames=["All"])
    dlq = sqs.get_queue_attributes(QueueUrl=created["MatchDeadLetterQueue"], AttributeNames=["All"])

    attributes = queue["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq["Attributes"]["QueueArn"],
        "maxReceiveCount": 5,
    }
    assert dlq["Attributes"]["MessageRetentionPeriod"] == "1209600"


def test_the_user_pool_has_its_client_and_its_groups(created: dict[str, str]) -> None:
    """
    Given the template's Cognito pool, client and groups
    When create_resources runs against moto
    Then the pool has the volunteers, supervisors, coordinators and trainees groups, and the
    client signs in with a password and no secret, as the web console does
    """
    cognito = _client("cognito-idp")
    groups = cognito.list_groups(UserPoolId=created["UserPool"])["Groups"]
    client = cognito.describe_user_pool_client(
        UserPoolId=created["UserPool"], ClientId=created["UserPoolClient"]
    )["UserPoolClient"]
    pool = cognito.describe_user_pool(UserPoolId=created["UserPool"])["UserPool"]

    assert sorted(group["GroupName"] for group in groups) == [
        "coordinators",
        "supervisors",
        "trainees",
        "volunteers",
    ]
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert "ClientSecret" not in client
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12


def test_the_demo_volunteer_can_sign_in_with_the_created_client(created: dict[str, str]) -> None:
    """
    Given the created pool and client
    When the local stack adds the demo volunteer and it signs in with USER_PASSWORD_AUTH
    Then Cognito (moto) returns an ID token, as a browser gets one in the cloud
    """
    cognito = _client("cognito-idp")
    pool, client = created["UserPool"], created["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool, Username="volunteer@example.org")
    cognito.admin_set_user_password(
        UserPoolId=pool,
        Username="volunteer@example.org",
        Password="Kindred-Local-1",
        Permanent=True,
    )
    cognito.admin_add_user_to_group(
        UserPoolId=pool, Username="volunteer@example.org", GroupName="volunteers"
    )

    auth = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "volunteer@example.org", "PASSWORD": "Kindred-Local-1"},
    )

    assert auth["AuthenticationResult"]["IdToken"]


def test_the_sealing_key_is_a_random_secure_string(created: dict[str, str]) -> None:
    """
    Given the template's SealingKey custom resource
    When create_resources runs against moto
    Then, as its function does at deploy, an SSM SecureString holds 64 random URL-safe
    characters (48 bytes) under the stack's name
    """
    parameter = _client("ssm").get_parameter(Name=created["SealingKey"], WithDecryption=True)

    assert created["SealingKey"] == f"/{DEFAULT_STACK_NAME}/sealing-key"
    assert parameter["Parameter"]["Type"] == "SecureString"
    assert len(parameter["Parameter"]["Value"]) == 64
    assert parameter["Parameter"]["Value"].replace("-", "").replace("_", "").isalnum()


def test_running_it_again_reuses_what_exists(created: dict[str, str]) -> None:
    """
    Given resources already created on a moto server that outlived the last local run
    When create_resources runs again
    Then it returns the same physical ids and creates no duplicate
    """
    again = create_resources(TEMPLATE_PATH, boto3.session.Session(region_name=REGION), None)

    assert again == created
    assert len(_client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]) == 1


def test_every_function_gets_the_globals_fully_resolved(created: dict[str, str]) -> None:
    """
    Given the created resources
    When the local stack asks for a function's environment
    Then every Globals variable is there as a plain string, pointing at what was created,
    with the parameters' defaults, and the WebSocket endpoint is the local gateway's
    """
    environment = function_environment(TEMPLATE_PATH, created, LOCAL_ENDPOINT, "ChatFunction")

    assert environment == {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TABLE_NAME": created["KindredTable"],
        "MATCH_QUEUE_URL": created["MatchQueue"],
        "WEBSOCKET_ENDPOINT": LOCAL_ENDPOINT,
        "SEALING_KEY_PARAMETER": created["SealingKey"],
        "ALLOWED_ORIGINS": "http://localhost:8080,http://127.0.0.1:8080",
        "COGNITO_USER_POOL_ID": created["UserPool"],
        "COGNITO_CLIENT_ID": created["UserPoolClient"],
        "RESUME_GRACE_SECONDS": "120",
        "SESSION_RETENTION_HOURS": "24",
        "REPORT_RETENTION_DAYS": "30",
        "BLOCK_RETENTION_DAYS": "90",
        "DEFAULT_COUNTRY": "",
        "DEFAULT_LANGUAGE": "en",
        "OPENING_HOURS": "",
        "MAX_WAIT_MINUTES": "20",
        "RISK_PAUSE_MINUTES": "5",
        "SHIFT_CAP_HOURS": "4",
        "TOPIC_FALLBACK_SECONDS": "60",
        "RETURN_KEY_DAYS": "14",
        "POSITION_UPDATES": "20",
        "RATE_LIMIT_ACTIONS": "30",
        "RATE_LIMIT_WINDOW_SECONDS": "10",
        "MAX_CONNECTIONS_PER_SOURCE_PER_MINUTE": "30",
        "POWERTOOLS_SERVICE_NAME": "kindred",
        "POWERTOOLS_METRICS_NAMESPACE": "Kindred",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "LOG_LEVEL": "INFO",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }


def test_parameters_can_be_overridden_like_at_deploy(created: dict[str, str]) -> None:
    """
    Given the created resources and an operator's parameter values
    When a function's environment is resolved with them
    Then the overrides replace the defaults
    """
    environment = function_environment(
        TEMPLATE_PATH,
        created,
        LOCAL_ENDPOINT,
        parameters={"AllowedOrigins": "https://help.example.org", "LogLevel": "DEBUG"},
    )

    assert environment["ALLOWED_ORIGINS"] == "https://help.example.org"
    assert environment["LOG_LEVEL"] == environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_a_reference_to_what_was_not_created_is_an_error_not_a_raw_value() -> None:
    """
    Given a resource map that lacks the table
    When a function's environment is resolved
    Then it fails naming the variable, instead of handing a raw {"Ref": ...} to the function
    """
    with pytest.raises(UnresolvedReferenceError, match="TABLE_NAME"):
        function_environment(TEMPLATE_PATH, {"AWS::Region": REGION}, LOCAL_ENDPOINT)


def test_an_unknown_function_is_refused() -> None:
    """
    Given the template
    When the environment of a function it does not declare is asked for
    Then it is a KeyError, not the Globals alone
    """
    with pytest.raises(KeyError, match="NoSuchFunction"):
        function_environment(TEMPLATE_PATH, {}, LOCAL_ENDPOINT, "NoSuchFunction")
