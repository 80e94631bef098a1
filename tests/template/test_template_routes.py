"""Every route of the protocol reaches a function whose handler exists and imports."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from local.aws_resources import function_environment, load_template
from tests.template.conftest import ROOT, TEMPLATE_PATH, resources_of_type, run_captured

# The route keys of PROTOCOL.md (version 1): the three API Gateway routes and every action.
PROTOCOL_ROUTES = {
    "$connect": "ConnectFunction",
    "$disconnect": "DisconnectFunction",
    "$default": "ChatFunction",
    "match": "MatchFunction",
    "availability": "MatchFunction",
    "message": "ChatFunction",
    "typing": "ChatFunction",
    "end": "ChatFunction",
    "report": "ChatFunction",
    "block": "ChatFunction",
    "feedback": "ChatFunction",
    "resources": "ChatFunction",
    "transfer": "ChatFunction",
    "forget": "ChatFunction",
    "assess": "ChatFunction",  # version 2, issue 8
    "ping": "ChatFunction",
    "reauth": "ChatFunction",  # version 2, issue 11
    "referral": "ChatFunction",  # version 2, issue 12
    "checkin": "ChatFunction",  # version 2, issue 12
    "escalate": "ChatFunction",  # version 2, issue 12
    "join": "ChatFunction",
    "whisper": "ChatFunction",
    "leave": "ChatFunction",
    "board": "ChatFunction",
    "accounts": "AdminFunction",  # version 2, issue 13
    "remember": "ChatFunction",  # version 2, issue 13
}

FUNCTIONS = sorted(resources_of_type(load_template(TEMPLATE_PATH), "AWS::Serverless::Function"))

# Stand-ins for what create_resources returns: enough to resolve the Globals environment.
FAKE_RESOURCES = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "kindred-test",
    "KindredTable": "kindred-test-table",
    "MatchQueue": "https://sqs.us-east-1.amazonaws.com/123456789012/kindred-test-match",
    "SealingKey": "/kindred-test/sealing-key",
    "UserPool": "us-east-1_TestPool1",
    "UserPoolClient": "testclientid0123456789",
}
WEBSOCKET_ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/live"

# Imports the handler by path, as Lambda does: the layer's python/ and the function's folder on
# sys.path, the Globals environment set. In a fresh interpreter, so that nothing the module
# does at import time (settings, clients) leaks into other tests.
_IMPORT_HANDLER = """
import importlib.util, sys
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("app", path)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
assert callable(getattr(module, "lambda_handler", None)), "no callable lambda_handler"
"""


def _route_function(route: dict[str, Any]) -> str:
    return str(route["FunctionArn"]["Fn::GetAtt"][0])


def test_every_route_of_the_protocol_reaches_its_function(template: dict[str, Any]) -> None:
    """
    Given the WebSocket API of the template
    When a client sends any action of the protocol (or connects, or disconnects)
    Then API Gateway has a route for it, to the function that handles that action,
    and the route selection reads the frame's `action`
    """
    (api,) = resources_of_type(template, "AWS::Serverless::WebSocketApi").values()
    routes = api["Properties"]["Routes"]

    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    assert {key: _route_function(route) for key, route in routes.items()} == PROTOCOL_ROUTES


def test_every_route_is_a_route_of_the_deployed_api(transformed: dict[str, Any]) -> None:
    """
    Given the template after the SAM transform
    When CloudFormation creates the API
    Then there is one AWS::ApiGatewayV2::Route per protocol route key,
    and API Gateway may invoke each route's function
    """
    routes = resources_of_type(transformed, "AWS::ApiGatewayV2::Route").values()
    permissions = resources_of_type(transformed, "AWS::Lambda::Permission").values()
    invokable = {
        str(p["Properties"]["FunctionName"]["Fn::GetAtt"][0])
        for p in permissions
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }

    assert sorted(r["Properties"]["RouteKey"] for r in routes) == sorted(PROTOCOL_ROUTES)
    assert set(PROTOCOL_ROUTES.values()) | {"AuthorizerFunction"} <= invokable


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_has_its_code_and_a_makefile_target(
    template: dict[str, Any], function_id: str
) -> None:
    """
    Given a function of the template
    When `sam build` builds it with the makefile build method
    Then its CodeUri folder has app.py and a Makefile with the build-<LogicalId> target
    """
    function = template["Resources"][function_id]
    code_dir = ROOT / function["Properties"]["CodeUri"]

    assert function["Metadata"]["BuildMethod"] == "makefile"
    assert (code_dir / "app.py").is_file(), f"{code_dir}/app.py is missing"
    makefile = (code_dir / "Makefile").read_text(encoding="utf-8")
    assert f"\nbuild-{function_id}:" in makefile


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_handler_imports_with_the_layer_and_the_template_environment(
    template: dict[str, Any], function_id: str
) -> None:
    """
    Given a function's app.py, the core layer's code and the environment the template gives it
    When Lambda loads the handler module (cold start)
    Then it imports and has a callable lambda_handler
    """
    function = template["Resources"][function_id]
    code_dir = ROOT / function["Properties"]["CodeUri"]
    handler_module, _, handler_name = (
        function["Properties"]
        .get("Handler", template["Globals"]["Function"]["Handler"])
        .rpartition(".")
    )
    assert (handler_module, handler_name) == ("app", "lambda_handler")
    environment = function_environment(
        TEMPLATE_PATH, FAKE_RESOURCES, WEBSOCKET_ENDPOINT, function_id
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))},
        **environment,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(code_dir)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }

    result = run_captured(
        [sys.executable, "-c", _IMPORT_HANDLER, str(code_dir / "app.py")],
        env=env,
        timeout=120,
        cwd=code_dir,
    )

    assert result.returncode == 0, (
        f"{function_id} ({code_dir.relative_to(ROOT)}/app.py) does not import:\n{result.stderr}\n"
        f"environment: {json.dumps(environment, indent=1)}"
    )


def test_every_function_gets_every_setting_from_globals(template: dict[str, Any]) -> None:
    """
    Given the template's Globals
    When any function starts
    Then it has every setting kindred.config reads from the template, and Powertools' names
    """
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    assert {
        "TABLE_NAME",
        "MATCH_QUEUE_URL",
        "WEBSOCKET_ENDPOINT",
        "SEALING_KEY_PARAMETER",
        "ALLOWED_ORIGINS",
        "COGNITO_USER_POOL_ID",
        "COGNITO_CLIENT_ID",
        "RESUME_GRACE_SECONDS",
        "SESSION_RETENTION_HOURS",
        "REPORT_RETENTION_DAYS",
        "BLOCK_RETENTION_DAYS",
        "TOPIC_FALLBACK_SECONDS",
        "POSITION_UPDATES",
        "RATE_LIMIT_ACTIONS",
        "RATE_LIMIT_WINDOW_SECONDS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "LOG_LEVEL",
    } <= set(variables)
    assert variables["POWERTOOLS_SERVICE_NAME"] == "kindred"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Kindred"
    assert variables["PYDANTIC_DISABLE_PLUGINS"] == "__all__"  # none installed: no search
    assert variables["WEBSOCKET_ENDPOINT"] == {
        "Fn::Sub": "https://${KindredWebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
        "/${StageName}"
    }


def test_the_matcher_has_the_time_a_batch_needs(template: dict[str, Any]) -> None:
    """
    Given the functions' timeouts
    When a handler runs
    Then a WebSocket route's handler stops well before API Gateway's 29 s integration limit,
    and the matcher has 30 s for a batch
    """
    default_timeout = template["Globals"]["Function"]["Timeout"]
    matcher = template["Resources"]["MatcherFunction"]["Properties"]

    assert default_timeout <= 10
    assert matcher["Timeout"] == 30
    assert template["Globals"]["Function"]["MemorySize"] <= 512


@pytest.mark.parametrize("function_id", ["ChatFunction", "MatchFunction"])
def test_a_frame_function_serves_exactly_its_template_routes(
    template: dict[str, Any], function_id: str
) -> None:
    """Given a function that serves client frames, then the routes its handler serves (ROUTES
    in its app.py) are exactly those the template gives it: a frame on any other route is
    refused (route discipline), so its role needs only what its own routes use."""
    import ast

    routes = template["Resources"]["KindredWebSocketApi"]["Properties"]["Routes"]
    given = {
        key
        for key, route in routes.items()
        if route["FunctionArn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    }
    code_uri = template["Resources"][function_id]["Properties"]["CodeUri"]
    tree = ast.parse((ROOT / code_uri / "app.py").read_text(encoding="utf-8"))
    declared = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "ROUTES" for t in node.targets)
    )
    assert set(declared) == given
    assert len(declared) == len(set(declared))
