"""Creates template.yaml's tables, queues, sealing key and user pools in local AWS (moto)."""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import boto3
import yaml  # type: ignore[import-untyped]

DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "kindred-local"
# Moto accepts any credentials; fixed dummy ones keep this tool away from a real account.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Keys of the map create_resources returns, besides logical ids ("KindredTable") and
# attributes ("KindredTable.Arn"): the pseudo parameters a template may use.
PSEUDO_PARAMETERS = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix")

_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_WEBSOCKET_API_TYPES = ("AWS::Serverless::WebSocketApi", "AWS::ApiGatewayV2::Api")

Template = dict[str, Any]
Clients = Callable[[str], Any]


class UnresolvedReferenceError(LookupError):
    """A template value names something that was not created (or a parameter with no value)."""


# ---------------------------------------------------------------- reading the template


class _CloudFormationLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A YAML loader that reads the short intrinsic tags (!Ref, !Sub, !GetAtt ...) as JSON form."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {key: value}


_CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(template_path: Path) -> Template:
    """The template as a dict, its intrinsic functions in JSON form ({"Ref": ...})."""
    with template_path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506 (a SafeLoader)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ValueError(f"{template_path} is not a CloudFormation template")
    return template


def parameter_values(
    template: Template, overrides: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Each parameter's value: the override, else its default (a list for list types)."""
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        raw = (overrides or {}).get(name, spec.get("Default"))
        if raw is None:
            continue
        if str(spec.get("Type", "String")).startswith(("CommaDelimitedList", "List<")):
            values[name] = (
                raw if isinstance(raw, list) else [s.strip() for s in str(raw).split(",")]
            )
        else:
            values[name] = str(raw)
    return values


# ---------------------------------------------------------------- resolving intrinsics


class _Resolver:
    """Resolves Ref, Fn::Sub, Fn::Join, Fn::GetAtt, Fn::Select and Fn::Split to plain values."""

    def __init__(self, parameters: Mapping[str, Any], physical: Mapping[str, str]) -> None:
        self.parameters = parameters
        self.physical = physical

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._intrinsics.get(key)
            if handler is not None:
                return handler(self, arg)
            if key.startswith("Fn::"):
                raise UnresolvedReferenceError(f"{key} is not supported here")
        return {key: self.resolve(item) for key, item in value.items()}

    def _name(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        raise UnresolvedReferenceError(name)

    def _ref(self, arg: Any) -> Any:
        return self._name(str(self.resolve(arg)))

    def _get_att(self, arg: Any) -> Any:
        logical_id, attribute = self.resolve(arg)
        return self._name(f"{logical_id}.{attribute}")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {name: self.resolve(item) for name, item in variables.items()}

        def substitute(name: str) -> str:
            if name.startswith("!"):  # ${!Literal} stands for ${Literal}
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            found = self._name(name)  # a parameter, a pseudo parameter, an id or "Id.Attribute"
            return ",".join(found) if isinstance(found, list) else str(found)

        out, rest = [], text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, closed, rest = after.partition("}")
            if not closed:
                raise UnresolvedReferenceError(f"unclosed ${{ in {text!r}")
            out += [before, substitute(name)]
        return "".join([*out, rest])

    def _join(self, arg: Any) -> str:
        delimiter, items = arg
        resolved = self.resolve(items)
        return str(delimiter).join(str(item) for item in resolved)

    def _select(self, arg: Any) -> Any:
        index, items = self.resolve(arg)
        return items[int(index)]

    def _split(self, arg: Any) -> list[str]:
        delimiter, text = self.resolve(arg)
        return str(text).split(str(delimiter))

    _intrinsics: ClassVar[dict[str, Callable[[_Resolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
    }


def resolved(
    template: Template,
    physical: Mapping[str, Any],
    value: Any,
    parameters: Mapping[str, str] | None = None,
) -> Any:
    """`value` with every Ref, Sub, GetAtt ... resolved to `physical` and the parameters."""
    return _Resolver(parameter_values(template, parameters), physical).resolve(value)


# ---------------------------------------------------------------- creating resources


def _pick(props: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: props[name] for name in names if name in props}


def _create_table(
    clients: Clients, logical_id: str, props: dict[str, Any], stack: str
) -> dict[str, str]:
    dynamodb = clients("dynamodb")
    name = str(props.get("TableName") or f"{stack}-{logical_id}")
    request = _pick(
        props,
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
    )
    billing = props.get("BillingMode", "PROVISIONED")
    request["BillingMode"] = billing
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = {
            key: int(value) for key, value in props["ProvisionedThroughput"].items()
        }
    # Already there (a moto server that outlived the last run): keep it.
    with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(TableName=name, **request)
    table = dynamodb.describe_table(TableName=name)["Table"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and str(ttl.get("Enabled")).lower() == "true":
        current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    return {logical_id: name, f"{logical_id}.Arn": table["TableArn"]}


_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def _create_queue(
    clients: Clients, logical_id: str, props: dict[str, Any], stack: str
) -> dict[str, str]:
    sqs = clients("sqs")
    fifo = str(props.get("FifoQueue", "false")).lower() == "true"
    name = str(props.get("QueueName") or f"{stack}-{logical_id}" + (".fifo" if fifo else ""))
    attributes = {
        key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        for key in _QUEUE_ATTRIBUTES
        if key in props
    }
    for policy in ("RedrivePolicy", "RedriveAllowPolicy"):
        if policy in props:
            attributes[policy] = json.dumps(props[policy])
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return {
        logical_id: url,
        f"{logical_id}.Arn": arn,
        f"{logical_id}.QueueName": name,
        f"{logical_id}.QueueUrl": url,
    }


def _create_sealing_key(
    clients: Clients, logical_id: str, props: dict[str, Any], stack: str
) -> dict[str, str]:
    """What the SealingKey custom resource's function does at deploy: an SSM SecureString with
    a random value (kept if there: what it sealed stays readable)."""
    ssm = clients("ssm")
    name = str(props["Name"])
    with contextlib.suppress(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(
            Name=name, Value=secrets.token_urlsafe(48), Type="SecureString", Overwrite=False
        )
    return {logical_id: name}


_POOL_SETTINGS = (
    "Policies",
    "AdminCreateUserConfig",
    "UsernameAttributes",
    "AliasAttributes",
    "AutoVerifiedAttributes",
    "AccountRecoverySetting",
    "UsernameConfiguration",
)


def _create_user_pool(
    clients: Clients, logical_id: str, props: dict[str, Any], stack: str
) -> dict[str, str]:
    cognito = clients("cognito-idp")
    region = cognito.meta.region_name
    name = str(props.get("UserPoolName") or f"{stack}-{logical_id}")
    existing = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]
    if existing:
        pool = cognito.describe_user_pool(UserPoolId=existing[0]["Id"])["UserPool"]
    else:
        pool = cognito.create_user_pool(PoolName=name, **_pick(props, *_POOL_SETTINGS))["UserPool"]
    _set_mfa(cognito, pool["Id"], props)
    return {
        logical_id: pool["Id"],
        f"{logical_id}.Arn": pool["Arn"],
        f"{logical_id}.ProviderName": f"cognito-idp.{region}.amazonaws.com/{pool['Id']}",
    }


def _set_mfa(cognito: Any, pool_id: str, props: dict[str, Any]) -> None:
    """MfaConfiguration and EnabledMfas as CloudFormation applies them: CreateUserPool takes
    no EnabledMfas, so TOTP is switched on by SetUserPoolMfaConfig, as the console does."""
    mode = str(props.get("MfaConfiguration") or "OFF")
    if "SOFTWARE_TOKEN_MFA" in (props.get("EnabledMfas") or []):
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration=mode,
        )
    elif mode != "OFF":
        cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=mode)


_CLIENT_SETTINGS = (
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
)


def _create_user_pool_client(
    clients: Clients, logical_id: str, props: dict[str, Any], stack: str
) -> dict[str, str]:
    cognito = clients("cognito-idp")
    pool_id = str(props["UserPoolId"])
    name = str(props.get("ClientName") or f"{stack}-{logical_id}")
    listed = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    existing = [c for c in listed if c["ClientName"] == name]
    if existing:
        client_id = existing[0]["ClientId"]
    else:
        settings = _pick(props, *_CLIENT_SETTINGS)
        created = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **settings)
        client_id = created["UserPoolClient"]["ClientId"]
    return {logical_id: client_id, f"{logical_id}.ClientId": client_id}


def _create_user_pool_group(
    clients: Clients, logical_id: str, props: dict[str, Any], stack: str
) -> dict[str, str]:
    cognito = clients("cognito-idp")
    name = str(props.get("GroupName") or f"{stack}-{logical_id}")
    request = {"GroupName": name, "UserPoolId": str(props["UserPoolId"])}
    if "Description" in props:
        request["Description"] = str(props["Description"])
    try:
        if "Precedence" in props:
            cognito.create_group(Precedence=int(props["Precedence"]), **request)
        else:
            cognito.create_group(**request)
    except cognito.exceptions.GroupExistsException:
        pass
    return {logical_id: name}


_CREATORS: dict[str, Callable[[Clients, str, dict[str, Any], str], dict[str, str]]] = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::SQS::Queue": _create_queue,
    "Custom::SealingKey": _create_sealing_key,
    "AWS::Cognito::UserPool": _create_user_pool,
    "AWS::Cognito::UserPoolClient": _create_user_pool_client,
    "AWS::Cognito::UserPoolGroup": _create_user_pool_group,
}


def create_resources(
    template_path: Path,
    session: Any | None = None,
    endpoint_url: str | None = None,
    *,
    region: str = DEFAULT_REGION,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Create the template's tables, queues, sealing key and Cognito pools, clients and groups.

    `session` is a boto3 Session (default: one with dummy credentials, so only moto answers);
    `endpoint_url` names a moto server (None: in-process `mock_aws`). Calling it again against
    the same server reuses what exists. Returns logical id -> physical id (table name, queue
    URL, parameter name, pool id, client id, group name), "<LogicalId>.<Attribute>" for the
    attributes !GetAtt may ask for (Arn, QueueName ...), and the pseudo parameters
    (AWS::Region ...) and "AWS::StackName": all that function_environment needs.
    """
    template = load_template(template_path)
    boto_session = session or boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
    cache: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if service not in cache:
            cache[service] = boto_session.client(
                service, region_name=region, endpoint_url=endpoint_url
            )
        return cache[service]

    physical: dict[str, str] = {
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::AccountId": "123456789012",  # replaced by the account of the first ARN below
    }
    resolver = _Resolver(parameter_values(template, parameters), physical)
    pending = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") in _CREATORS
    }
    # A resource is created once every reference in it resolves (a DLQ before its queue,
    # a pool before its clients and groups), so the template's order does not matter.
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            raw = dict(resource.get("Properties") or {})
            raw.pop("ServiceToken", None)  # a custom resource's function: made here instead
            try:
                props = resolver.resolve(raw)
            except UnresolvedReferenceError:
                continue
            physical.update(_CREATORS[resource["Type"]](clients, logical_id, props, stack_name))
            arn = physical.get(f"{logical_id}.Arn", "")
            if arn.count(":") >= 5 and arn.split(":")[4]:
                physical["AWS::AccountId"] = arn.split(":")[4]
            del pending[logical_id]
            progressed = True
        if not progressed:
            blocked = ", ".join(sorted(pending))
            raise UnresolvedReferenceError(
                f"cannot create {blocked}: they reference what is not created"
            )
    return physical


# ---------------------------------------------------------------- function environments


def _mentions(value: Any, names: set[str]) -> bool:
    """Whether a template value refers to one of the logical ids in names."""
    if isinstance(value, str):
        return any(f"${{{name}}}" in value or f"${{{name}." in value for name in names)
    if isinstance(value, list):
        return any(_mentions(item, names) for item in value)
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and item in names:
                return True
            if (
                key == "Fn::GetAtt"
                and (item[0] if isinstance(item, list) else str(item).split(".")[0]) in names
            ):
                return True
            if _mentions(item, names):
                return True
    return False


def function_environment(
    template_path: Path,
    resources: Mapping[str, str],
    websocket_endpoint: str,
    function_id: str | None = None,
    *,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment a function gets in Lambda: Globals, then its own Environment, resolved.

    References resolve to `resources` (what create_resources returned) and to the parameters'
    defaults (or `parameters`). A variable that names the WebSocket API (WEBSOCKET_ENDPOINT)
    gets `websocket_endpoint`, the local gateway's management endpoint. AWS_REGION and
    AWS_DEFAULT_REGION are added as Lambda adds them. A reference to anything else that was
    not created is an UnresolvedReferenceError: no value is left half-resolved.
    """
    template = load_template(template_path)
    template_resources: dict[str, Any] = template["Resources"]
    variables: dict[str, Any] = dict(
        ((template.get("Globals") or {}).get("Function") or {})
        .get("Environment", {})
        .get("Variables", {})
    )
    if function_id is not None:
        function = template_resources.get(function_id)
        if function is None or function.get("Type") not in _FUNCTION_TYPES:
            raise KeyError(f"{function_id} is not a function of {template_path}")
        own = (function.get("Properties") or {}).get("Environment", {}).get("Variables", {})
        variables.update(own)

    apis = {
        logical_id
        for logical_id, resource in template_resources.items()
        if resource.get("Type") in _WEBSOCKET_API_TYPES
    }
    resolver = _Resolver(parameter_values(template, parameters), resources)
    region = resources.get("AWS::Region", DEFAULT_REGION)
    environment = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    for name, raw in variables.items():
        if _mentions(raw, apis):
            environment[name] = websocket_endpoint
            continue
        try:
            value = resolver.resolve(raw)
        except UnresolvedReferenceError as exc:
            raise UnresolvedReferenceError(f"{name}: {exc} was not created") from None
        if isinstance(value, bool):
            value = str(value).lower()
        if not isinstance(value, str | int | float):
            raise UnresolvedReferenceError(f"{name}: {value!r} is not a plain value")
        environment[name] = str(value)
    return environment


def main() -> None:
    """Create the resources on a moto server and print the map as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--template", type=Path, default=Path(__file__).parent.parent / "template.yaml"
    )
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:5000")
    parser.add_argument("--region", default=DEFAULT_REGION)
    args = parser.parse_args()
    resources = create_resources(args.template, endpoint_url=args.endpoint_url, region=args.region)
    print(json.dumps(resources, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
