"""The optional edge (EdgeRateLimit): CloudFront with an AWS WAF rate rule, only when asked for."""

from __future__ import annotations

from typing import Any

from tests.template.test_template_operations import _condition, _deployed, _parameters
from tools import web_config

EDGE_TYPES = {"AWS::WAFv2::WebACL", "AWS::CloudFront::Distribution"}


def _types(resources: dict[str, Any]) -> set[str]:
    return {resource["Type"] for resource in resources.values()}


def test_by_default_there_is_no_edge_and_the_connection_budget_is_on(
    template: dict[str, Any],
) -> None:
    """
    Given the template's defaults
    When it is deployed
    Then there is no CloudFront distribution and no WAF web ACL (nothing to pay), and the
    $connect budget of 30 connections per source and minute is on
    """
    assert not _types(_deployed(template)) & EDGE_TYPES
    assert template["Parameters"]["EdgeRateLimit"]["Default"] == 0
    assert template["Parameters"]["MaxConnectionsPerSourcePerMinute"]["Default"] == 30
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["MAX_CONNECTIONS_PER_SOURCE_PER_MINUTE"] == {
        "Ref": "MaxConnectionsPerSourcePerMinute"
    }


def test_an_edge_rate_limit_puts_cloudfront_and_a_waf_rate_rule_in_front(
    template: dict[str, Any],
) -> None:
    """
    Given EdgeRateLimit=300 (and the connection budget off, as the template's rule asks)
    When it is deployed
    Then a WAF web ACL of scope CLOUDFRONT blocks (429) a source address past 300 requests in
    5 minutes, keeps no sampled requests, and a CloudFront distribution under it forwards to
    the WebSocket API's stage over HTTPS, caching nothing, with no access log
    """
    deployed = _deployed(template, EdgeRateLimit="300", MaxConnectionsPerSourcePerMinute="0")
    [acl] = [r for r in deployed.values() if r["Type"] == "AWS::WAFv2::WebACL"]
    [dist] = [r for r in deployed.values() if r["Type"] == "AWS::CloudFront::Distribution"]

    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT" and props["DefaultAction"] == {"Allow": {}}
    [rule] = props["Rules"]
    assert rule["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
        "Limit": {"Ref": "EdgeRateLimit"},
    }
    assert rule["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}
    assert not rule["VisibilityConfig"]["SampledRequestsEnabled"]
    assert not props["VisibilityConfig"]["SampledRequestsEnabled"]

    config = dist["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}
    [origin] = config["Origins"]
    assert "${KindredWebSocketApi}.execute-api" in origin["DomainName"]["Fn::Sub"]
    assert origin["OriginPath"] == {"Fn::Sub": "/${StageName}"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert "Logging" not in config
    assert "EdgeWebSocketUrl" in template["Outputs"]
    assert template["Outputs"]["EdgeWebSocketUrl"]["Condition"] == "EdgeWanted"


def test_the_edge_asks_for_the_connection_budget_off(template: dict[str, Any]) -> None:
    """
    Given the template's rule for the edge
    When EdgeRateLimit is on
    Then MaxConnectionsPerSourcePerMinute must be 0 (behind CloudFront every connection comes
    from CloudFront's addresses); when it is off, the rule asks nothing
    """
    rule = template["Rules"]["EdgeReplacesTheConnectionBudget"]

    def holds(**values: str) -> tuple[bool, bool]:
        parameters = _parameters(template, **values)
        applies = _condition(template, rule["RuleCondition"], parameters)
        [assertion] = rule["Assertions"]
        return applies, _condition(template, assertion["Assert"], parameters)

    assert holds(EdgeRateLimit="300") == (True, False)
    assert holds(EdgeRateLimit="300", MaxConnectionsPerSourcePerMinute="0") == (True, True)
    assert holds()[0] is False


def test_an_edge_rate_limit_below_wafs_lowest_is_refused(template: dict[str, Any]) -> None:
    """
    Given the template's rules
    When EdgeRateLimit is 1 to 9 (AWS WAF refuses a rate limit below 10)
    Then the deploy is refused before anything is built; 0 (no edge) and 10 pass
    """
    rule = template["Rules"]["EdgeRateLimitIsTenOrMore"]
    [assertion] = rule["Assertions"]

    def refused(limit: str) -> bool:
        parameters = _parameters(
            template, EdgeRateLimit=limit, MaxConnectionsPerSourcePerMinute="0"
        )
        applies = _condition(template, rule["RuleCondition"], parameters)
        return bool(applies) and not _condition(template, assertion["Assert"], parameters)

    assert [refused(str(n)) for n in range(1, 10)] == [True] * 9
    assert not refused("0") and not refused("10") and not refused("300")


def test_web_config_sends_pages_through_the_edge_when_there_is_one() -> None:
    """
    Given a stack deployed with the edge (an EdgeWebSocketUrl output)
    When make web-config writes config.json
    Then the pages connect through CloudFront, not to the API directly
    """
    outputs = {
        "WebSocketUrl": "wss://abc123defg.execute-api.us-east-1.amazonaws.com/live",
        "EdgeWebSocketUrl": "wss://d111111abcdef8.cloudfront.net",
        "UserPoolId": "us-east-1_AbCdEf123",
        "UserPoolClientId": "3n4b5urk1ft4fl3mg5e62d9ado",
        "Region": "us-east-1",
    }
    stack = {
        "StackName": "kindred",
        "Parameters": [],
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }
    site = {"topics": [], "languages": ["en"]}

    assert web_config.web_config(stack, site)["websocketUrl"] == outputs["EdgeWebSocketUrl"]
    del stack["Outputs"][1]
    assert web_config.web_config(stack, site)["websocketUrl"] == outputs["WebSocketUrl"]
