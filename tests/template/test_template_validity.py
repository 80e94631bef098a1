"""template.yaml is valid: cfn-lint finds nothing and the SAM transform accepts it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.api import lint_file

from tests.template.conftest import TEMPLATE_PATH, resources_of_type


def test_cfn_lint_reports_nothing_on_the_template() -> None:
    """
    Given template.yaml
    When cfn-lint checks it, informational rules included
    Then it reports nothing: no error, no warning, no hint
    """
    matches = lint_file(TEMPLATE_PATH, config={"include_checks": ["I"]})

    assert [str(match) for match in matches] == []


def test_the_sam_transform_turns_every_serverless_resource_into_cloudformation(
    transformed: dict[str, Any],
) -> None:
    """
    Given template.yaml
    When the SAM translator transforms it (as CloudFormation does on deploy)
    Then it succeeds and leaves no AWS::Serverless resource behind
    And the WebSocket API becomes an API, a stage, an authorizer and routes
    """
    types = {resource["Type"] for resource in transformed["Resources"].values()}

    assert not {t for t in types if t.startswith("AWS::Serverless::")}
    assert {
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Integration",
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::EventSourceMapping",
    } <= types
    assert "Transform" not in transformed


def test_the_transformed_template_lints_clean_and_has_no_dependency_cycle(
    transformed: dict[str, Any], tmp_path: Path
) -> None:
    """
    Given the CloudFormation the SAM transform makes (routes, integrations, permissions,
    roles, stage)
    When cfn-lint checks it
    Then it reports nothing; in particular no circular dependency between the API, whose id
    every function's environment names, and the routes and permissions naming the functions
    """
    path = tmp_path / "transformed.json"
    path.write_text(json.dumps(transformed), encoding="utf-8")

    matches = lint_file(path, config={"include_checks": ["I"]})

    assert [str(match) for match in matches] == []


def test_the_template_deploys_with_no_answers_to_give(template: dict[str, Any]) -> None:
    """
    Given template.yaml
    When an operator runs `sam deploy --guided` and presses Enter at every prompt
    Then every parameter has a default, so nothing has to be typed
    """
    without_default = [
        name for name, spec in template["Parameters"].items() if "Default" not in spec
    ]

    assert without_default == []


def test_the_outputs_give_a_client_all_it_needs(template: dict[str, Any]) -> None:
    """
    Given the deployed stack
    When an operator generates the frontend's config.json from the outputs
    Then the outputs name the wss:// URL, the user pool and client, the region, the table
    and both queues
    """
    outputs = template["Outputs"]

    assert {
        "WebSocketUrl",
        "UserPoolId",
        "UserPoolClientId",
        "Region",
        "TableName",
        "MatchQueueUrl",
        "MatchDeadLetterQueueUrl",
    } <= set(outputs)
    url = outputs["WebSocketUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("wss://${KindredWebSocketApi}.execute-api.${AWS::Region}.")
    assert url.endswith("/${StageName}")


def test_the_layer_is_built_for_the_functions_runtime_and_architecture(
    template: dict[str, Any],
) -> None:
    """
    Given the core layer and the functions
    When Lambda attaches the layer
    Then the layer is for python3.13 on arm64, as every function is, and is built by its Makefile
    """
    (layer,) = resources_of_type(template, "AWS::Serverless::LayerVersion").values()
    function_globals = template["Globals"]["Function"]

    assert layer["Properties"]["CompatibleRuntimes"] == [function_globals["Runtime"]]
    assert layer["Properties"]["CompatibleArchitectures"] == function_globals["Architectures"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert function_globals["Layers"] == [{"Ref": "CoreLayer"}]
