"""Each function's role from template.yaml, created in moto and enforced as IAM enforces it.

Lambda runs a function with its execution role's credentials. Locally every function runs in
one process, so `LocalIam` creates each role in moto (the template's inline statements, with
every reference resolved), assumes it with STS, and hands out a boto3 session per function;
`enforced()` then turns on moto's IAM access control, so a call outside the caller's role
fails with AccessDenied, as in AWS. moto checks DynamoDB, SSM and Cognito calls
against the resource "*" and authorises a transaction as one action; `enforced()` gives it
the table, parameter and pool ARNs, and checks a transaction item by item (PutItem, UpdateItem,
DeleteItem, ConditionCheckItem), as IAM does. The @connections API is API Gateway's, not
moto's: `connections_denial` checks `execute-api:ManageConnections` for it. Every check is
recorded, so a test can find a grant that no call used.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import unquote

import boto3

from local.aws_resources import Template, load_template, resolved

ADMIN_USER = "kindred-local-admin"
MANAGE_CONNECTIONS = "execute-api:ManageConnections"
_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_API_TYPES = ("AWS::Serverless::WebSocketApi", "AWS::ApiGatewayV2::Api")
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# Cognito's user APIs that AWS serves on a user's token, never SigV4 (a browser calls them);
# moto lists only some of them as needing no signature.
_COGNITO_TOKEN_OPERATIONS = tuple(
    f"AWSCognitoIdentityProviderService.{name}"
    for name in (
        "RespondToAuthChallenge",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "SetUserMFAPreference",
        "ChangePassword",
        "ConfirmForgotPassword",
        "GlobalSignOut",
        "RevokeToken",
        "GetUser",
        "UpdateUserAttributes",
    )
)
# What IAM checks for each item of a transaction (TransactWriteItems is not an IAM action).
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class Grant:
    """One action on one resource pattern that a function's role allows."""

    function: str
    action: str
    resource: str


@dataclass(frozen=True)
class Check:
    """One authorisation IAM made: who, what, on which resource, and whether it was allowed."""

    function: str
    action: str
    resource: str
    allowed: bool


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str) -> bool:
    """IAM's wildcard match ("*" any run, "?" one character), case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _action_matches(pattern: str, action: str) -> bool:
    service, _, name = pattern.partition(":")
    a_service, _, a_name = action.partition(":")
    return service.lower() == a_service.lower() and _matches(name.lower(), a_name.lower())


def function_policies(
    template: Template,
    resources: Mapping[str, str],
    *,
    api_id: str,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each function's inline policy document, every reference resolved to `resources`.

    Only inline statements (`Policies: [{Statement: [...]}]`) are read: a SAM policy template
    or a managed policy would have to be expanded here first, and Kindred uses none; the one
    managed policy SAM attaches itself, for an `SQS` event, is added.
    """
    physical = dict(resources)
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") in _API_TYPES:
            physical[logical_id] = api_id
    policies: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") not in _FUNCTION_TYPES:
            continue
        statements: list[dict[str, Any]] = []
        for policy in _as_list((resource.get("Properties") or {}).get("Policies") or []):
            if not isinstance(policy, dict) or "Statement" not in policy:
                raise ValueError(f"{logical_id}: only inline policy statements are supported")
            statements += _as_list(resolved(template, physical, policy["Statement"], parameters))
        if _has_sqs_event(resource):
            # SAM attaches AWSLambdaSQSQueueExecutionRole for an `SQS` event.
            statements.append(SQS_QUEUE_EXECUTION)
        policies[logical_id] = {"Version": "2012-10-17", "Statement": statements}
    return policies


# The managed policy AWSLambdaSQSQueueExecutionRole, as AWS publishes it.
SQS_QUEUE_EXECUTION = {
    "Effect": "Allow",
    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
    "Resource": "*",
}


def _has_sqs_event(resource: Mapping[str, Any]) -> bool:
    events = (resource.get("Properties") or {}).get("Events") or {}
    return any(isinstance(e, dict) and e.get("Type") == "SQS" for e in events.values())


def grants(policies: Mapping[str, Mapping[str, Any]]) -> list[Grant]:
    """Every (action, resource) pair the roles allow, one per function."""
    found: list[Grant] = []
    for function, document in policies.items():
        for statement in document["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            for action in _as_list(statement.get("Action", [])):
                for resource in _as_list(statement.get("Resource", "*")):
                    found.append(Grant(function, action, resource))
    return found


def _allows(document: Mapping[str, Any], action: str, resource: str) -> bool:
    """IAM's answer for one identity policy: an explicit Deny wins, then any Allow."""
    allowed = False
    for statement in document["Statement"]:
        hit = any(
            _action_matches(p, action) for p in _as_list(statement.get("Action", []))
        ) and any(_matches(p, resource) for p in _as_list(statement.get("Resource", "*")))
        if hit and statement.get("Effect") == "Deny":
            return False
        allowed = allowed or (hit and statement.get("Effect") == "Allow")
    return allowed


class LocalIam:
    """The functions' roles in moto, a session per function, and the checks IAM made."""

    def __init__(
        self,
        policies: Mapping[str, Mapping[str, Any]],
        *,
        region: str,
        endpoint_url: str | None = None,
        role_prefix: str = "kindred-local",
    ) -> None:
        self.policies = dict(policies)
        self.region = region
        self.endpoint_url = endpoint_url
        self.role_prefix = role_prefix
        self.credentials: dict[str, dict[str, str]] = {}
        self.admin: dict[str, str] = {}
        self._by_key: dict[str, str] = {}
        self._checks: list[Check] = []
        self._services: dict[str, Any] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_template(
        cls,
        template_path: Any,
        resources: Mapping[str, str],
        *,
        api_id: str,
        region: str,
        endpoint_url: str | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> LocalIam:
        template = load_template(template_path)
        policies = function_policies(template, resources, api_id=api_id, parameters=parameters)
        return cls(policies, region=region, endpoint_url=endpoint_url)

    # ------------------------------------------------------------ creating the identities

    def create(self, session: Any) -> LocalIam:
        """Create the roles and an administrator in moto (before enforcement) and assume each
        role once; `session` is any boto3 session moto accepts while IAM is not enforced."""
        iam = session.client("iam", region_name=self.region, endpoint_url=self.endpoint_url)
        sts = session.client("sts", region_name=self.region, endpoint_url=self.endpoint_url)
        # Whoever is not a function (the tests, the local tools, the demo accounts' set-up).
        # A moto that outlived an earlier stack in this process keeps its identities.
        with suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(
            UserName=ADMIN_USER,
            PolicyName="everything",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        # IAM allows a user two keys: a stack started while another runs (a test's own stack)
        # takes the second; the oldest goes only when both are taken.
        keys = iam.list_access_keys(UserName=ADMIN_USER)["AccessKeyMetadata"]
        if len(keys) >= 2:
            oldest = min(keys, key=lambda k: k["CreateDate"])
            iam.delete_access_key(UserName=ADMIN_USER, AccessKeyId=oldest["AccessKeyId"])
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        self.admin = {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }
        for function, document in self.policies.items():
            name = f"{self.role_prefix}-{function}"[:64]
            try:
                arn = iam.create_role(
                    RoleName=name, AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST)
                )["Role"]["Arn"]
            except iam.exceptions.EntityAlreadyExistsException:
                arn = iam.get_role(RoleName=name)["Role"]["Arn"]
                for old in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    iam.delete_role_policy(RoleName=name, PolicyName=old)
            if document["Statement"]:  # IAM refuses an empty policy; no grant is no policy
                iam.put_role_policy(
                    RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document)
                )
            given = sts.assume_role(RoleArn=arn, RoleSessionName=function)["Credentials"]
            self.credentials[function] = {
                "aws_access_key_id": given["AccessKeyId"],
                "aws_secret_access_key": given["SecretAccessKey"],
                "aws_session_token": given["SessionToken"],
            }
            self._by_key[given["AccessKeyId"]] = function
        return self

    def session(self, function: str) -> boto3.session.Session:
        """A boto3 session on `function`'s role, as Lambda gives the function."""
        return boto3.session.Session(region_name=self.region, **self.credentials[function])

    def admin_session(self) -> boto3.session.Session:
        return boto3.session.Session(region_name=self.region, **self.admin)

    def admin_environment(self) -> dict[str, str]:
        """AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY of the administrator."""
        return {
            "AWS_ACCESS_KEY_ID": self.admin["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self.admin["aws_secret_access_key"],
        }

    def function_of(self, access_key_id: str) -> str | None:
        return self._by_key.get(access_key_id)

    # ------------------------------------------------------------ running as a function

    def services_of(self, function: str) -> Any:
        """`function`'s own Services (kindred's adapters on its role), built on first use."""
        from kindred.aws.wiring import aws_services
        from kindred.config import settings

        config = settings()  # new settings (a test changed a parameter): new Services
        with self._lock:
            built = self._services.get(function)
            if built is None or built.settings is not config:
                built = self._services[function] = aws_services(config, self.session(function))
            return built

    def every_services(self) -> list[Any]:
        """The Services built so far, one per function that ran."""
        with self._lock:
            return list(self._services.values())

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        """Within it, kindred's services() is `function`'s: its role signs its calls. (Built
        only if the handler asks: a function of another template may not use kindred.)"""
        try:
            from kindred.aws.wiring import serving
        except ImportError:  # a template without Kindred's layer
            yield
            return
        with serving(lambda: self.services_of(function)):
            yield

    # ------------------------------------------------------------ what IAM checked

    def record(self, access_key_id: str, action: str, resource: str, allowed: bool) -> None:
        function = self.function_of(access_key_id)
        if function is not None:
            with self._lock:
                self._checks.append(Check(function, action, resource, allowed))

    def checks(self) -> list[Check]:
        with self._lock:
            return list(self._checks)

    def unused_grants(self, functions: set[str] | None = None) -> list[Grant]:
        """The grants of `functions` (default all) that no allowed check of theirs used."""
        used = [c for c in self.checks() if c.allowed]
        return [
            g
            for g in grants(self.policies)
            if (functions is None or g.function in functions)
            and not any(
                c.function == g.function
                and _action_matches(g.action, c.action)
                and _matches(g.resource, c.resource)
                for c in used
            )
        ]

    # ------------------------------------------------------------ @connections (API Gateway)

    def connections_denial(
        self, authorization: str, method: str, resource_arn: str
    ) -> tuple[str, str] | None:
        """None when the signed caller may `method` @connections; else (error type, message).

        An administrator's key (the tests' own clients) is allowed everything; the signature
        itself is not verified (moto verifies it for the AWS services).
        """
        match = re.search(r"Credential=([^/]+)/", authorization or "")
        key = match.group(1) if match else ""
        if key and key == self.admin.get("aws_access_key_id"):
            return None
        function = self.function_of(key)
        if function is None:
            return (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        allowed = _allows(self.policies[function], MANAGE_CONNECTIONS, resource_arn)
        self.record(key, MANAGE_CONNECTIONS, resource_arn, allowed)
        if allowed:
            return None
        return (
            "ForbiddenException",
            f"User: {self.role_prefix}-{function} is not authorized to perform: "
            f"{MANAGE_CONNECTIONS} on resource: {resource_arn}",
        )

    # ------------------------------------------------------------ enforcement in moto

    @contextmanager
    def enforced(self) -> Iterator[LocalIam]:
        """moto's IAM access control on, with the resources and transactions IAM checks."""
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
        with ExitStack() as patches:
            for target, name, value in _moto_patches(self):
                patches.enter_context(mock.patch.object(target, name, value, create=True))
            public = ActionAuthenticatorMixin.PUBLIC_OPERATIONS
            patches.enter_context(
                mock.patch.object(
                    ActionAuthenticatorMixin,
                    "PUBLIC_OPERATIONS",
                    [*public, *(op for op in _COGNITO_TOKEN_OPERATIONS if op not in public)],
                )
            )
            settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
            ActionAuthenticatorMixin.request_count = 0
            try:
                yield self
            finally:
                settings.INITIAL_NO_AUTH_ACTION_COUNT = saved
                ActionAuthenticatorMixin.request_count = 0


@contextmanager
def suspended() -> Iterator[None]:
    """IAM not enforced while it lasts (a stack's set-up, while another stack runs)."""
    from moto import settings

    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved


def _moto_patches(iam: LocalIam) -> list[tuple[Any, str, Any]]:
    """(class, attribute, replacement): what enforced() changes in moto while it lasts."""
    from moto.apigatewaymanagementapi.responses import ApiGatewayManagementApiResponse as Api
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.access_control import IAMRequest
    from moto.sqs.responses import SQSResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    original_check = IAMRequest.check_action_permitted

    def check_action_permitted(request: Any, resource: str) -> None:
        key = request._access_key._access_key_id
        try:
            original_check(request, resource)
        except Exception:
            iam.record(key, request._action, resource, False)
            raise
        iam.record(key, request._action, resource, True)

    def authorize_dynamodb(handler: Any, resource: str = "*") -> None:
        params = handler.body if isinstance(handler.body, dict) else {}
        for operation, table in _dynamodb_checks(handler._get_action(), params):
            arn = f"arn:aws:dynamodb:{handler.region}:{handler.current_account}:table/{table}"
            handler._authenticate_and_authorize_action(
                _request_class(IAMRequest, operation), arn if table != "*" else "*"
            )

    def authorize_sqs(handler: Any, resource: str = "*") -> None:
        # IAM authorises a batch as its single action (DeleteMessageBatch as DeleteMessage).
        action = handler._get_action()
        operation = _SQS_BATCHES.get(action, action)
        handler._authenticate_and_authorize_action(_request_class(IAMRequest, operation), resource)

    def guarded(verb: str) -> Callable[..., str]:
        method = getattr(Api, _CONNECTION_METHODS[verb])

        def serve(handler: Any) -> str:
            from moto.core.exceptions import JsonRESTError

            api_id = (handler.headers.get("Host", "") or "").split(".", 1)[0]
            stage, _, connection = handler.path.strip("/").partition("/@connections/")
            arn = (
                f"arn:aws:execute-api:{handler.region}:{handler.current_account}:"
                f"{api_id}/{stage}/{verb}/@connections/{unquote(connection)}"
            )
            denial = iam.connections_denial(handler.headers.get("Authorization", ""), verb, arn)
            if denial is not None:
                error = JsonRESTError(*denial)
                error.code = 403
                raise error
            return str(method(handler))

        return serve

    return [
        (IAMRequest, "check_action_permitted", check_action_permitted),
        (DynamoHandler, "_authenticate_and_authorize_normal_action", authorize_dynamodb),
        (SQSResponse, "_authenticate_and_authorize_normal_action", authorize_sqs),
        (SimpleSystemManagerResponse, "_determine_resource", _parameter_resource),
        (CognitoIdpResponse, "_determine_resource", _pool_resource),
        *((Api, _CONNECTION_METHODS[verb], guarded(verb)) for verb in _CONNECTION_METHODS),
    ]


_SQS_BATCHES = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_CONNECTION_METHODS = {
    "POST": "post_to_connection",
    "GET": "get_connection",
    "DELETE": "delete_connection",
}


def _parameter_resource(handler: Any) -> str:
    """The SSM parameter's ARN (moto checks SSM calls against "*"); a name's leading "/" is
    not repeated in it, as in AWS."""
    name = str(json.loads(handler.body or "{}").get("Name", ""))
    if not name:
        return "*"
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ssm:{handler.region}:{handler.current_account}:parameter/{name.lstrip('/')}"


def _pool_resource(handler: Any) -> str:
    """The user pool's ARN (moto checks Cognito calls against "*")."""
    pool = json.loads(handler.body or "{}").get("UserPoolId")
    if not pool:
        return "*"
    return f"arn:aws:cognito-idp:{handler.region}:{handler.current_account}:userpool/{pool}"


def _request_class(base: type, operation: str) -> type:
    """moto's IAMRequest, checking `operation` whatever the request's own action."""

    class _Request(base):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            kwargs["action"] = operation
            super().__init__(**kwargs)

    return _Request


def _dynamodb_checks(action: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, table) pairs IAM checks for one DynamoDB request."""
    if action in {"TransactWriteItems", "TransactGetItems"}:
        pairs = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                pairs.append((_TRANSACT_ACTIONS[kind], body["TableName"]))
        return sorted(set(pairs))
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [(action, table) for table in sorted(params.get("RequestItems", {}))]
    table = str(params.get("TableName", "*"))
    if params.get("IndexName"):  # IAM checks a Query of an index on the index's ARN
        return [(action, f"{table}/index/{params['IndexName']}")]
    return [(action, table)]
