"""Alarms, their optional e-mail and the dashboard: what they watch, when they exist, cost."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tests.template.conftest import ROOT, resources_of_type

ALARM = "AWS::CloudWatch::Alarm"
SNS_TYPES = ("AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::SNS::TopicPolicy")
LAYER_SOURCES = sorted((ROOT / "layers" / "core" / "kindred").rglob("*.py"))
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
# An alarm is billed per metric it reads: the figure the docs and the parameter quote.
ALARM_METRICS = 8


# ---------------------------------------------------------------- evaluating conditions


def _parameters(template: dict[str, Any], **overrides: str) -> dict[str, str]:
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    values.update(overrides)
    return values


def _condition(template: dict[str, Any], node: Any, parameters: dict[str, str]) -> Any:
    """A condition's value, as CloudFormation evaluates it at deploy."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            return parameters[arg]
        if key == "Condition":
            return _condition(template, template["Conditions"][arg], parameters)
        if key == "Fn::Equals":
            left, right = (_condition(template, side, parameters) for side in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not _condition(template, arg[0], parameters)
        if key == "Fn::And":
            return all(_condition(template, item, parameters) for item in arg)
        if key == "Fn::Or":
            return any(_condition(template, item, parameters) for item in arg)
        if key == "Fn::Contains":  # (in Rules) a string among a list of strings
            return str(_condition(template, arg[1], parameters)) in arg[0]
    return node


_NO_VALUE = object()


def _resolve_ifs(node: Any, holds: dict[str, bool]) -> Any:
    """The template value with every Fn::If decided and AWS::NoValue removed."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, when_true, when_false = node["Fn::If"]
            return _resolve_ifs(when_true if holds[name] else when_false, holds)
        if node == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        resolved = {key: _resolve_ifs(value, holds) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}
    if isinstance(node, list):
        return [item for item in (_resolve_ifs(i, holds) for i in node) if item is not _NO_VALUE]
    return node


def _deployed(template: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """The resources CloudFormation creates for these parameter values, Fn::If decided."""
    parameters = _parameters(template, **overrides)
    holds = {
        name: bool(_condition(template, {"Condition": name}, parameters))
        for name in template.get("Conditions", {})
    }
    resources = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or holds[resource["Condition"]]
    }
    return _resolve_ifs(copy.deepcopy(resources), holds)


def _references(node: Any) -> set[str]:
    """The logical ids a value names (Ref, Fn::GetAtt, ${Id} and ${Id.Attribute} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text, local = (value, {}) if isinstance(value, str) else (value[0], value[1])
                named = {name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                found |= (named - set(local)) | _references(local)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


# ---------------------------------------------------------------- the alarms


def test_every_alarm_says_what_it_means_and_what_to_do(template: dict[str, Any]) -> None:
    """
    Given the template's alarms
    When one goes off and its description reaches the operator (console or e-mail)
    Then it says what happened and, after "Do:", what to do, and points to docs/operations.md;
    it fits CloudWatch's 1,024 characters; no data (an idle stack) never sets it off
    """
    alarms = resources_of_type(template, ALARM)

    assert len(alarms) == 4
    for logical_id, alarm in alarms.items():
        properties = alarm["Properties"]
        description = properties["AlarmDescription"]
        text = description if isinstance(description, str) else description["Fn::Sub"]
        assert "Do:" in text, logical_id
        assert "docs/operations.md" in text, logical_id
        assert len(text.replace("${LongWaitAlarmSeconds}", "3600")) <= 1024, logical_id
        assert properties["TreatMissingData"] == "notBreaching", logical_id
        assert alarm["Condition"] == "AlarmsWanted", logical_id


def test_the_dead_letter_alarm_watches_the_queue_failed_work_is_parked_in(
    template: dict[str, Any],
) -> None:
    """
    Given the match queue, whose work goes to its dead-letter queue after 5 failed receives
    When one work item is parked there
    Then the dead-letter alarm goes off: it watches that very queue's visible messages, above 0
    """
    queue = template["Resources"]["MatchQueue"]["Properties"]
    parked_in = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    alarm = template["Resources"]["DeadLetterAlarm"]["Properties"]

    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [parked_in, "QueueName"]}}
    ]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum",
        0,
        "GreaterThanThreshold",
    )


def test_the_failures_alarm_leaves_out_refused_handshakes_only(template: dict[str, Any]) -> None:
    """
    Given the $connect authorizer, which refuses a bad token by raising "Unauthorized"
    (a Lambda error by design)
    When the failures alarm sums Lambda's errors
    Then it takes the region's total less the authorizer's, and adds the actions answered
    `internal` and the handshakes refused because Cognito's keys were out of reach
    """
    alarm = template["Resources"]["FailuresAlarm"]["Properties"]
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    metrics = {
        query_id: query["MetricStat"]["Metric"]
        for query_id, query in queries.items()
        if "MetricStat" in query
    }
    (watched,) = [query for query in alarm["Metrics"] if query["ReturnData"]]

    assert metrics["lambda"] == {"Namespace": "AWS/Lambda", "MetricName": "Errors"}
    assert metrics["refusals"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": "AuthorizerFunction"}}
    ]
    assert (metrics["internal"]["Namespace"], metrics["internal"]["MetricName"]) == (
        "Kindred",
        "Error_internal",
    )
    assert {"Name": "reason", "Value": "jwks_unavailable"} in metrics["jwks"]["Dimensions"]
    assert watched["Expression"] == (
        "FILL(lambda, 0) - FILL(refusals, 0) + FILL(internal, 0) + FILL(jwks, 0)"
    )
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_the_long_wait_alarm_reads_the_waits_of_matched_and_still_waiting_seekers(
    template: dict[str, Any],
) -> None:
    """
    Given the matcher, which records each matched seeker's wait as the EMF metric WaitSeconds,
      and the sweeper, which records the longest wait of those still waiting as
      OldestWaitSeconds every minute (namespace Kindred, dimension service=kindred, as the
      functions' Powertools settings say)
    When 1 in 10 seekers matched in 15 minutes waited longer than LongWaitAlarmSeconds, or a
      seeker has waited that long with nobody on shift to match them
    Then the long-wait alarm goes off: it reads the larger of the two
    """
    alarm = template["Resources"]["LongWaitAlarm"]["Properties"]
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Kindred"
    dimensions = [{"Name": "service", "Value": environment["POWERTOOLS_SERVICE_NAME"]}]
    read = {
        query["Id"]: query["MetricStat"]
        for query in alarm["Metrics"]
        if "MetricStat" in query and query["ReturnData"] is False
    }
    assert {
        (stat["Metric"]["MetricName"], stat["Stat"], stat["Period"]) for stat in read.values()
    } == {("WaitSeconds", "p90", 900), ("OldestWaitSeconds", "Maximum", 900)}
    for stat in read.values():
        assert stat["Metric"]["Namespace"] == "Kindred"
        assert stat["Metric"]["Dimensions"] == dimensions
    (decides,) = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
    expression = decides["Expression"].replace(" ", "")
    assert expression.startswith("MAX([")
    assert all(f"FILL({metric_id},0)" in expression for metric_id in read)
    assert alarm["Threshold"] == {"Ref": "LongWaitAlarmSeconds"}
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert template["Parameters"]["LongWaitAlarmSeconds"]["Default"] == 300


def test_the_sweeper_records_the_longest_wait_the_alarm_reads() -> None:
    """The metric the alarm reads for seekers still waiting is the one the sweeper emits."""
    source = (ROOT / "layers" / "core" / "kindred" / "edges.py").read_text(encoding="utf-8")
    assert 'name="OldestWaitSeconds", unit="Seconds"' in source


def _kindred_metrics_read(template: dict[str, Any]) -> set[str]:
    """Every metric name of the Kindred namespace that an alarm or the dashboard reads."""
    names: set[str] = set()
    for alarm in resources_of_type(template, ALARM).values():
        properties = alarm["Properties"]
        if properties.get("Namespace") == "Kindred":
            names.add(properties["MetricName"])
        for query in properties.get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric.get("Namespace") == "Kindred":
                names.add(metric["MetricName"])
    for widget in _dashboard(template)["widgets"]:
        for line in widget.get("properties", {}).get("metrics", []):
            if line and line[0] == "Kindred":
                names.add(line[1])
    return names


def test_every_kindred_metric_read_is_one_the_code_publishes(template: dict[str, Any]) -> None:
    """
    Given the alarms and the dashboard, which read Kindred's own EMF metrics by name
    When a metric is renamed in the code
    Then this fails, instead of an alarm that can never go off or an empty graph
    """
    source = "\n".join(path.read_text(encoding="utf-8") for path in LAYER_SOURCES)
    published = set(re.findall(r'add_metric\(\s*name="(\w+)"', source))

    read = _kindred_metrics_read(template)

    assert read >= {"WaitSeconds", "Error_internal", "ConnectRefused", "ChatsStarted"}
    assert read <= published, read - published
    assert '"jwks_unavailable"' in source  # the refusal reason the failures alarm reads
    assert 'name=f"Error_{exc.code}"' in source  # what the errors-by-code search finds


def test_mail_exists_only_when_an_address_is_given(template: dict[str, Any]) -> None:
    """
    Given AlarmEmail empty (the default)
    When the stack is deployed
    Then there is no SNS topic or subscription and no alarm has an action
    And given an address, one encrypted-in-transit topic with one e-mail subscription to it,
    named in every alarm's ALARM and OK actions
    And given CreateAlarms=false, no alarm and no topic, even with an address
    """
    quiet = _deployed(template)
    mailed = _deployed(template, AlarmEmail="ops@example.org")
    no_alarms = _deployed(template, CreateAlarms="false", AlarmEmail="ops@example.org")

    assert not [r for r in quiet.values() if r["Type"] in SNS_TYPES]
    assert len([r for r in quiet.values() if r["Type"] == ALARM]) == 4
    for alarm in (r for r in quiet.values() if r["Type"] == ALARM):
        assert "AlarmActions" not in alarm["Properties"]
        assert "OKActions" not in alarm["Properties"]

    (topic_id,) = [i for i, r in mailed.items() if r["Type"] == "AWS::SNS::Topic"]
    (subscription,) = [r for r in mailed.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": topic_id},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    for alarm in (r for r in mailed.values() if r["Type"] == ALARM):
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}]

    assert not [r for r in no_alarms.values() if r["Type"] in (ALARM, *SNS_TYPES)]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"AlarmEmail": "ops@example.org"},
        {"CreateAlarms": "false", "AlarmEmail": "ops@example.org"},
        {"CreateAlarms": "false", "CreateDashboard": "false"},
    ],
    ids=["defaults", "mailed", "no-alarms", "nothing"],
)
def test_no_resource_names_one_its_conditions_leave_out(
    transformed: dict[str, Any], overrides: dict[str, str]
) -> None:
    """
    Given the CloudFormation the SAM transform makes, and the operator's choices
    When CloudFormation decides which resources exist
    Then no resource that exists refers to one that does not (the deploy would fail)
    """
    deployed = _deployed(transformed, **overrides)
    known = set(deployed) | set(transformed["Parameters"]) | {"AWS::NoValue"}

    for logical_id, resource in deployed.items():
        dangling = {
            name
            for name in _references(resource.get("Properties", {}))
            if not name.startswith("AWS::") and name not in known
        }
        assert not dangling, (logical_id, dangling)


def test_the_topic_is_one_cloudwatch_can_publish_to(template: dict[str, Any]) -> None:
    """
    Given the alarm topic
    When an alarm publishes to it
    Then it is not encrypted with the AWS managed key alias/aws/sns: CloudWatch may not use
    that key and its policy cannot be changed, so every notification would fail (a customer
    managed key would cost $1 a month; a notification holds nothing about anyone)
    """
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()

    assert topic["Condition"] == "MailAlarms"
    assert "KmsMasterKeyId" not in topic.get("Properties", {})


def test_the_email_parameter_accepts_an_address_or_nothing(template: dict[str, Any]) -> None:
    """
    Given the AlarmEmail parameter
    When an operator answers `sam deploy --guided`
    Then empty (no mail) and an address are accepted, and a typo without @ is refused
    """
    pattern = re.compile(template["Parameters"]["AlarmEmail"]["AllowedPattern"])

    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert pattern.fullmatch("")
    assert pattern.fullmatch("ops@example.org")
    assert not pattern.fullmatch("ops.example.org")
    assert not pattern.fullmatch("ops@example")


# ---------------------------------------------------------------- what it costs


def _alarm_metrics(template: dict[str, Any]) -> int:
    """Billed alarm metrics: one per single-metric alarm, one per metric an expression reads."""
    count = 0
    for alarm in resources_of_type(template, ALARM).values():
        queries = alarm["Properties"].get("Metrics")
        count += 1 if queries is None else len([q for q in queries if "MetricStat" in q])
    return count


def test_the_alarms_cost_what_the_docs_and_the_parameter_say(template: dict[str, Any]) -> None:
    """
    Given CloudWatch's price of $0.10 a month per alarm metric (an expression's metrics each
    count) and 10 always-free ones
    When the template's alarms are counted
    Then they read 7 metrics, as CreateAlarms' description and docs/operations.md say
    """
    doc = OPERATIONS_DOC.read_text(encoding="utf-8")
    description = " ".join(template["Parameters"]["CreateAlarms"]["Description"].split())

    assert _alarm_metrics(template) == ALARM_METRICS
    assert f"{ALARM_METRICS} alarm metrics: ${ALARM_METRICS / 10:.2f} a month" in description
    assert f"| {ALARM_METRICS} alarm metrics |" in doc


def test_alarms_and_dashboard_can_each_be_left_out(template: dict[str, Any]) -> None:
    """
    Given an operator who wants the lowest idle cost
    When they deploy with CreateAlarms=false and CreateDashboard=false
    Then no alarm, topic or dashboard is created, and both default to true
    """
    nothing = _deployed(template, CreateAlarms="false", CreateDashboard="false")
    types = {resource["Type"] for resource in nothing.values()}

    assert not types & {ALARM, "AWS::CloudWatch::Dashboard", *SNS_TYPES}
    assert template["Parameters"]["CreateAlarms"]["Default"] == "true"
    assert template["Parameters"]["CreateDashboard"]["Default"] == "true"


# ---------------------------------------------------------------- the dashboard


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body with every ${...} replaced by a dummy value, parsed as JSON."""
    (dashboard,) = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    known = set(template["Resources"]) | set(template["Parameters"])
    names = set(re.findall(r"\$\{([^}]+)\}", body))
    for name in names:
        assert name.startswith("AWS::") or name.split(".")[0] in known, name
    dummy = {name: "300" if name == "LongWaitAlarmSeconds" else f"dummy-{name}" for name in names}
    return dict(json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: dummy[m.group(1)], body)))


def test_the_dashboard_body_is_json_once_substituted(template: dict[str, Any]) -> None:
    """
    Given the dashboard, whose body is JSON with ${...} names CloudFormation fills in
    When the names are replaced
    Then it parses, every graph is in the stack's region, and the free tier's 50 metrics a
    dashboard are not exceeded
    """
    body = _dashboard(template)
    graphs = [w["properties"] for w in body["widgets"] if w["type"] == "metric"]

    assert graphs
    assert {graph["region"] for graph in graphs} == {"dummy-AWS::Region"}
    assert sum(len(graph["metrics"]) for graph in graphs) <= 50
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24


def test_the_dashboard_shows_what_the_operator_needs(template: dict[str, Any]) -> None:
    """
    Given the dashboard
    When the operator opens it
    Then it shows seekers and waits, chats, crisis signals, reports, errors by code, every
    function's errors and duration, throttles, the API's connections and messages, and
    the dead-letter queue
    """
    lines = [
        line
        for widget in _dashboard(template)["widgets"]
        for line in widget.get("properties", {}).get("metrics", [])
    ]
    plain = {tuple(x for x in line if isinstance(x, str))[:2] for line in lines}
    expressions = " ".join(str(line[0].get("expression")) for line in lines if len(line) == 1)
    functions = resources_of_type(template, "AWS::Serverless::Function")
    errors_of = {line[3] for line in lines if line[:2] == ["AWS/Lambda", "Errors"]}
    durations_of = {line[3] for line in lines if line[:2] == ["AWS/Lambda", "Duration"]}

    assert {
        ("Kindred", "SeekersQueued"),
        ("Kindred", "WaitSeconds"),
        ("Kindred", "ChatsStarted"),
        ("Kindred", "ChatsEnded"),
        ("Kindred", "CrisisSignals"),
        ("Kindred", "Reports"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/ApiGateway", "ConnectCount"),
        ("AWS/ApiGateway", "MessageCount"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    } <= plain
    assert "SEARCH('{Kindred,service} MetricName=Error'" in expressions
    assert errors_of == durations_of == {f"dummy-{name}" for name in functions}
    dead_letters = "dummy-MatchDeadLetterQueue.QueueName"
    assert ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dead_letters] in [
        line[:4] for line in lines
    ]
    api_lines = [line for line in lines if line[0] == "AWS/ApiGateway"]
    assert all(
        line[2:6] == ["ApiId", "dummy-KindredWebSocketApi", "Stage", "dummy-StageName"]
        for line in api_lines
    )


def test_every_parameter_is_explained_in_the_operations_guide(template: dict[str, Any]) -> None:
    """
    Given the template's parameters, each a setting an operator may change
    When they read docs/operations.md
    Then every one of them is named there
    """
    doc = OPERATIONS_DOC.read_text(encoding="utf-8")

    assert [name for name in template["Parameters"] if f"`{name}`" not in doc] == []


@pytest.mark.parametrize(
    ("log_level", "application", "system"),
    [
        ("DEBUG", "DEBUG", "DEBUG"),
        ("INFO", "INFO", "WARN"),
        ("WARNING", "INFO", "WARN"),
        ("ERROR", "INFO", "WARN"),
    ],
)
def test_every_function_logs_json_without_lambdas_own_lines_unless_debug(
    template: dict[str, Any],
    transformed: dict[str, Any],
    log_level: str,
    application: str,
    system: str,
) -> None:
    """
    Given the LogLevel parameter
    When any function is deployed
    Then Lambda writes its logs in JSON and drops its own START, END and REPORT lines (INFO
    system logs) unless LogLevel is DEBUG; it keeps the application's lines from INFO up (from
    DEBUG with LogLevel DEBUG), never fewer, because it takes a line without a level (the
    metrics' EMF lines) for INFO; the functions' own level stays LogLevel
    """
    functions = resources_of_type(transformed, "AWS::Lambda::Function")
    assert functions
    parameters = _parameters(template, LogLevel=log_level)
    holds = {
        name: bool(_condition(template, node, parameters))
        for name, node in template["Conditions"].items()
    }
    for logical_id, function in functions.items():
        config = _resolve_ifs(function["Properties"]["LoggingConfig"], holds)
        assert config["LogFormat"] == "JSON", logical_id
        assert _condition(template, config["ApplicationLogLevel"], parameters) == application
        assert _condition(template, config["SystemLogLevel"], parameters) == system
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert set(template["Parameters"]["LogLevel"]["AllowedValues"]) == {
        "DEBUG",
        "INFO",
        "WARNING",
        "ERROR",
    }
