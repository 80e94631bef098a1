"""Least privilege and safe settings: scoped IAM, TTL, encrypted queues, no data trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.template.conftest import resources_of_type

TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
}
CONNECTIONS_ARN = (
    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
    "${KindredWebSocketApi}/${StageName}/{method}/@connections/*"
)
BASIC_EXECUTION_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from _listify(document.get("Statement", []))


def _all_statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement anywhere in a template (inline policies, roles, SAM Policies)."""
    if isinstance(node, dict):
        if "Statement" in node and isinstance(node["Statement"], list | dict):
            yield from _statements(node)
        for value in node.values():
            yield from _all_statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_statements(item)


def _role_statements(transformed: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    role = transformed["Resources"][f"{function_id}Role"]["Properties"]
    return [s for policy in role.get("Policies", []) for s in _statements(policy["PolicyDocument"])]


def _actions_on(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Action -> the resources (as their template expressions) it is allowed on."""
    granted: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _listify(statement["Action"]):
            for resource in _listify(statement["Resource"]):
                granted.setdefault(action, set()).add(repr(resource))
    return granted


@pytest.mark.parametrize("which", ["template", "transformed"])
def test_no_iam_statement_allows_a_wildcard_action_or_resource(
    template: dict[str, Any], transformed: dict[str, Any], which: str
) -> None:
    """
    Given the template, before and after the SAM transform
    When IAM evaluates any statement in it
    Then no statement grants an action with a wildcard, or any action on every resource
    """
    document = template if which == "template" else transformed
    statements = [s for s in _all_statements(document["Resources"]) if "Action" in s]

    assert statements, "no IAM statement found: the test would prove nothing"
    for statement in statements:
        assert not [a for a in _listify(statement["Action"]) if "*" in a], statement
        if statement.get("Effect") == "Allow" and "Principal" not in statement:
            assert "*" not in _listify(statement["Resource"]), statement


def test_functions_have_no_managed_policy_but_their_logs(transformed: dict[str, Any]) -> None:
    """
    Given every function's execution role after the SAM transform
    When IAM evaluates it
    Then the only managed policy is the basic execution role (its own logs): no X-Ray,
    no SQS-on-every-queue policy slipped in through a SAM shortcut
    """
    roles = resources_of_type(transformed, "AWS::IAM::Role")

    assert len(roles) == 9  # one per function
    for logical_id, role in roles.items():
        assert role["Properties"]["ManagedPolicyArns"] == [BASIC_EXECUTION_ROLE], logical_id


def test_the_authorizer_can_do_nothing_but_log(transformed: dict[str, Any]) -> None:
    """
    Given the authorizer, which only verifies tokens against the Cognito JWKS over HTTPS
    When it runs
    Then its role has no permission besides its logs
    """
    assert _role_statements(transformed, "AuthorizerFunction") == []


TABLE = repr({"Fn::GetAtt": ["KindredTable", "Arn"]})
QUEUE = repr({"Fn::GetAtt": ["MatchQueue", "Arn"]})
KEY = repr(
    {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/"
        "${AWS::StackName}/sealing-key"
    }
)
POOL = repr({"Fn::GetAtt": ["UserPool", "Arn"]})


def _table(*actions: str) -> dict[str, set[str]]:
    return {f"dynamodb:{action}": {TABLE} for action in actions}


def _connections(*methods: str) -> dict[str, set[str]]:
    arns = {repr({"Fn::Sub": CONNECTIONS_ARN.replace("{method}", m)}) for m in methods}
    return {"execute-api:ManageConnections": arns}


# Each role exactly: what tests/integration/test_iam.py saw each function call under IAM
# enforced, every grant used (a TransactWriteItems is authorised per item: Put, Update,
# Delete; no code writes a ConditionCheck item).
ROLES: dict[str, dict[str, set[str]]] = {
    # A seeker's item, the source's counter; a resume (peer_back; a replaced socket closed;
    # a waiting seeker back in the queue nudges the matcher); the salt of the budget.
    "ConnectFunction": {
        **_table("GetItem", "PutItem", "UpdateItem", "DeleteItem"),
        **_connections("POST", "DELETE"),
        "sqs:SendMessage": {QUEUE},
        "ssm:GetParameter": {KEY},
    },
    # The grace period and its delayed work item; a volunteer's seekers told.
    "DisconnectFunction": {
        **_table("GetItem", "UpdateItem", "DeleteItem", "Query"),
        **_connections("POST"),
        "sqs:SendMessage": {QUEUE},
    },
    # match seals an intro and replaces a finished chat's resume ticket; availability; work
    # for the matcher; a volunteer whose sign-in ran out is closed on their next frame.
    "MatchFunction": {
        **_table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"),
        **_connections("POST", "DELETE"),
        "sqs:SendMessage": {QUEUE},
        "ssm:GetParameter": {KEY},
    },
    # Consumes the queue (the event source polls on its role), reads blocks in a batch,
    # unseals intros and notes, sends a grace's work item on.
    "MatcherFunction": {
        **_table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem"),
        **_connections("POST"),
        "sqs:SendMessage": {QUEUE},
        "sqs:ReceiveMessage": {QUEUE},
        "sqs:DeleteMessage": {QUEUE},
        "sqs:GetQueueAttributes": {QUEUE},
        "ssm:GetParameter": {KEY},
    },
    # The chat actions; forget and session_expired close the socket; a transfer note sealed.
    "ChatFunction": {
        **_table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"),
        **_connections("POST", "DELETE"),
        "sqs:SendMessage": {QUEUE},
        "ssm:GetParameter": {KEY},
    },
    # What is open (the Census index, its items, the open partitions); sockets asked after
    # (GET) and closed; staff accounts asked after.
    "SweeperFunction": {
        **_table("GetItem", "UpdateItem", "DeleteItem", "BatchGetItem"),
        "dynamodb:Query": {TABLE, repr({"Fn::Sub": "${KindredTable.Arn}/index/Census"})},
        **_connections("POST", "DELETE", "GET"),
        "sqs:SendMessage": {QUEUE},
        "cognito-idp:ListUsers": {POOL},
    },
    # At deploy only (the SealingKey custom resource): the key made, and deleted with the stack.
    "SealingKeyFunction": {"ssm:PutParameter": {KEY}, "ssm:DeleteParameter": {KEY}},
    # Accounts from the console (issue 13): the sender's item (a coordinator's?), the answer,
    # and Cognito's admin calls on this pool, which no other role has.
    "AdminFunction": {
        **_table("GetItem"),
        **_connections("POST"),
        **{
            f"cognito-idp:{action}": {POOL}
            for action in (
                "ListUsers",
                "ListUsersInGroup",
                "AdminListGroupsForUser",
                "AdminCreateUser",
                "AdminAddUserToGroup",
                "AdminRemoveUserFromGroup",
                "AdminDisableUser",
                "AdminEnableUser",
                "AdminDeleteUser",
                "AdminUserGlobalSignOut",
            )
        },
    },
}


@pytest.mark.parametrize("function_id", sorted(ROLES))
def test_each_function_gets_exactly_what_it_uses_on_this_stack_only(
    transformed: dict[str, Any], function_id: str
) -> None:
    """
    Given a function with AWS calls to make
    When it runs
    Then its role allows exactly the actions its code calls, each on this stack's resource
    only (the table, the match queue, the sealing secret, the pool, this API's connections)
    """
    assert _actions_on(_role_statements(transformed, function_id)) == ROLES[function_id]


def test_only_the_admin_function_manages_accounts_and_on_the_pool_only(
    transformed: dict[str, Any],
) -> None:
    """
    Given every function's role after the SAM transform (issue 13)
    When IAM evaluates a Cognito call
    Then only the admin function may make an admin call (Admin*, ListUsersInGroup), each on
    this stack's user pool alone; its role has nothing else but reading a connection item and
    answering on @connections
    """
    roles = resources_of_type(transformed, "AWS::IAM::Role")
    for logical_id in roles:
        function_id = logical_id.removesuffix("Role")
        granted = _actions_on(_role_statements(transformed, function_id))
        admin_calls = {
            a for a in granted if a.startswith("cognito-idp:Admin") or a.endswith("InGroup")
        }
        if function_id != "AdminFunction":
            assert admin_calls == set(), function_id
    admin = _actions_on(_role_statements(transformed, "AdminFunction"))
    cognito = {a: r for a, r in admin.items() if a.startswith("cognito-idp:")}
    assert len(cognito) == 10
    assert all(resources == {POOL} for resources in cognito.values())
    assert set(admin) - set(cognito) == {"dynamodb:GetItem", "execute-api:ManageConnections"}


def test_the_authorizer_admits_connections_without_any_token(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    """
    Given the $connect route's Lambda REQUEST authorizer
    When an anonymous seeker connects with no token at all
    Then API Gateway still calls the authorizer: it has no identity source (which API Gateway
    would require to be present, answering 401 itself), and so no cached decision either
    """
    (api,) = resources_of_type(template, "AWS::Serverless::WebSocketApi").values()
    (authorizer,) = resources_of_type(transformed, "AWS::ApiGatewayV2::Authorizer").values()
    (connect,) = [
        route
        for route in resources_of_type(transformed, "AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["RouteKey"] == "$connect"
    ]

    assert api["Properties"]["Auth"]["AuthType"] == "CUSTOM"
    assert api["Properties"]["Auth"]["AuthArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert "IdentitySource" not in api["Properties"]["Auth"]
    assert authorizer["Properties"]["AuthorizerType"] == "REQUEST"
    assert not authorizer["Properties"].get("IdentitySource")
    assert "AuthorizerResultTtlInSeconds" not in authorizer["Properties"]
    assert connect["Properties"]["AuthorizationType"] == "CUSTOM"


def test_the_stage_never_logs_frames_and_is_throttled(transformed: dict[str, Any]) -> None:
    """
    Given the API's stage after the transform
    When frames go through it
    Then API Gateway neither traces nor logs their content, and throttles a flood
    """
    (stage,) = resources_of_type(transformed, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]

    assert settings["DataTraceEnabled"] is False
    assert settings["LoggingLevel"] in ("OFF", "ERROR")
    assert "ThrottlingBurstLimit" in settings
    assert "ThrottlingRateLimit" in settings
    assert stage["Properties"]["StageName"] == {"Ref": "StageName"}


def test_every_table_item_can_expire(template: dict[str, Any]) -> None:
    """
    Given the table
    When an item's expiresAt passes
    Then DynamoDB's TTL deletes it; the table is on demand, encrypted, keyed pk/sk, with one
    index: the sweeper's sparse, keys-only index of connection items (what it holds expires
    with them), and no local index
    """
    (table,) = resources_of_type(template, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]

    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert properties["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "Census",
            "KeySchema": [
                {"AttributeName": "census", "KeyType": "HASH"},
                {"AttributeName": "pk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]
    assert "LocalSecondaryIndexes" not in properties


def test_both_queues_are_encrypted(template: dict[str, Any]) -> None:
    """
    Given the match queue and its dead-letter queue
    When a work item rests in either
    Then SQS encrypts it
    """
    queues = resources_of_type(template, "AWS::SQS::Queue")

    assert set(queues) == {"MatchQueue", "MatchDeadLetterQueue"}
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, logical_id


def test_a_failing_work_item_is_retried_then_parked(template: dict[str, Any]) -> None:
    """
    Given the match queue and the matcher consuming it
    When the matcher fails on a work item, or runs out of time
    Then the item is not visible again before the matcher's timeout could have passed six
    times, it goes to the dead-letter queue after 5 receives, and is kept there 14 days
    """
    resources = template["Resources"]
    queue = resources["MatchQueue"]["Properties"]
    matcher_timeout = resources["MatcherFunction"]["Properties"].get(
        "Timeout", template["Globals"]["Function"]["Timeout"]
    )

    assert queue["VisibilityTimeout"] >= 6 * matcher_timeout
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["MatchDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert resources["MatchDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 1209600


def test_the_matcher_consumes_the_queue_in_small_reportable_batches(
    template: dict[str, Any],
) -> None:
    """
    Given the matcher's event source
    When work items arrive
    Then it gets batches of up to 10 within 1 s, reports failures item by item, sets no
    maximum concurrency (with one, Lambda keeps 5 pollers on the idle queue instead of 2: the
    matching transaction serialises concurrent passes), and reserves no concurrency (new
    accounts cannot)
    """
    (mapping,) = resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]

    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["MatchQueue", "Arn"]}
    assert properties["FunctionName"] == {"Ref": "MatcherFunction"}
    assert properties["BatchSize"] == 10
    assert properties["MaximumBatchingWindowInSeconds"] == 1
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "ScalingConfig" not in properties
    assert "ProvisionedPollerConfig" not in properties  # dedicated pollers are billed per hour
    for logical_id, function in resources_of_type(template, "AWS::Serverless::Function").items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], logical_id


def test_volunteer_accounts_are_created_by_an_admin_only(template: dict[str, Any]) -> None:
    """
    Given the Cognito user pool
    When someone tries to sign up, or signs in
    Then only an admin can create accounts, usernames are e-mails, passwords have 12+
    characters, the client has no secret and does not tell whether a user exists,
    and the volunteers, supervisors, coordinators and trainees groups exist
    """
    resources = template["Resources"]
    pool = resources["UserPool"]["Properties"]
    client = resources["UserPoolClient"]["Properties"]
    groups = resources_of_type(template, "AWS::Cognito::UserPoolGroup").values()

    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert sorted(g["Properties"]["GroupName"] for g in groups) == [
        "coordinators",
        "supervisors",
        "trainees",
        "volunteers",
    ]


def test_the_sealing_key_is_made_at_deploy_and_costs_nothing_kept(
    template: dict[str, Any],
) -> None:
    """
    Given the sealing key
    When the stack is created
    Then a custom resource makes it (an SSM SecureString, which CloudFormation cannot make)
    under the name every function reads, no key is in the template, and there is no
    Secrets Manager secret ($0.40 a month) nor a KMS key of our own ($1 a month); it is made
    after its function's log group (a run before would create the group, and the stack's fail)
    """
    resources = template["Resources"]
    key = resources["SealingKey"]
    name = {"Fn::Sub": "/${AWS::StackName}/sealing-key"}

    assert key["Type"] == "Custom::SealingKey"
    assert key["DependsOn"] == "SealingKeyLogGroup"
    assert key["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": ["SealingKeyFunction", "Arn"]},
        "Name": name,
    }
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SEALING_KEY_PARAMETER"] == name
    kinds = {r["Type"] for r in resources.values()}
    assert not kinds & {"AWS::SecretsManager::Secret", "AWS::KMS::Key", "AWS::SSM::Parameter"}
    assert "schedule" not in json.dumps(resources["SealingKeyFunction"]).lower()
    assert "Events" not in resources["SealingKeyFunction"]["Properties"]
