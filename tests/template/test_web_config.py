"""tools/web_config.py: the web frontend for the cloud, config.json from the stack's outputs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from kindred.referrals import page_directory
from kindred.safety import crisis_directory
from tests.template.conftest import ROOT
from tools import web_config

REGION = "eu-west-1"
URL = "wss://abc123defg.execute-api.eu-west-1.amazonaws.com/live"
OUTPUTS = {
    "WebSocketUrl": URL,
    "UserPoolId": "eu-west-1_AbCdEf123",
    "UserPoolClientId": "3n4b5urk1ft4fl3mg5e62d9ado",
    "Region": REGION,
    "TableName": "kindred-KindredTable-1ABC",
}
SITE = json.loads((ROOT / "web" / "site.json").read_text(encoding="utf-8"))


def _documented_config() -> dict[str, Any]:
    """The config.json example of docs/protocol.md, its "..." placeholders dropped."""
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = protocol.split("## config.json", 1)[1].split("\n## ", 1)[0]
    example = section[section.index("    {") : section.index("\n    }\n") + 6]
    return dict(json.loads(example.replace(", ...]", "]").replace('"INTL": [...]', '"INTL": []')))


def _stack(outputs: dict[str, str], origins: str = "https://help.example.org") -> dict[str, Any]:
    return {
        "StackName": "kindred",
        "StackStatus": "UPDATE_COMPLETE",
        "CreationTime": "2026-11-26T00:00:00Z",
        "Parameters": [{"ParameterKey": "AllowedOrigins", "ParameterValue": origins}],
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
    }


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    """A CloudFormation client whose answers the test gives (botocore's Stubber)."""
    client = boto3.client(
        "cloudformation",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _answers(stubber: Stubber, stack: dict[str, Any]) -> None:
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "kindred"})


def test_config_json_has_the_shape_the_protocol_documents(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given a deployed stack's outputs and web/site.json
    When the operator runs `make web-config`
    Then config.json has exactly the keys docs/protocol.md shows, but the local-only Cognito
    endpoint (the page then signs in at the region's Cognito) and the hours (the stack has
    none: open 24/7), with the stack's values, the site's topics, languages and canned
    replies, and the whole crisis and referral directories
    """
    client, stubber = cloudformation
    _answers(stubber, _stack(OUTPUTS))

    written, warnings = web_config.build(client, "kindred", out_dir=tmp_path / "web")
    config = json.loads(written.read_text(encoding="utf-8"))
    documented = _documented_config()

    assert set(config) == set(documented) - {"hours"}
    assert set(config["cognito"]) == set(documented["cognito"]) - {"endpoint"}
    assert all(set(topic) == set(documented["topics"][0]) for topic in config["topics"])
    lines = config.pop("crisisLines")
    assert lines == crisis_directory() and len(lines) > 40
    assert set(lines["GB"][0]) == set(documented["crisisLines"]["GB"][0])
    services = config.pop("referrals")
    assert services == page_directory() and len(services) >= 9
    assert set(services[1]) == set(documented["referrals"][0])  # gb-cruse, as documented
    assert config == {
        "websocketUrl": URL,
        "topics": SITE["topics"],
        "languages": SITE["languages"],
        "cannedReplies": SITE["cannedReplies"],
        "cognito": {
            "region": REGION,
            "userPoolId": OUTPUTS["UserPoolId"],
            "clientId": OUTPUTS["UserPoolClientId"],
        },
        "defaultCountry": "",
        "returnKeyDays": 0,  # a stack without the parameter (before issue 13): no return keys
        "maxConnectionSeconds": 7200,  # API Gateway's fixed 2 hours
    }
    assert warnings == []


def test_config_json_gives_the_stacks_country_and_opening_hours(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given a stack deployed with DefaultCountry GB and OpeningHours
    When the operator runs `make web-config`
    Then config.json names the country and gives the hours as docs/protocol.md shows them
    """
    client, stubber = cloudformation
    stack = _stack(OUTPUTS)
    given = {
        "timezone": "Europe/London",
        "weekly": {"mon": [["18:00", "23:00"]]},
        "closedDates": [],
    }
    stack["Parameters"] += [
        {"ParameterKey": "DefaultCountry", "ParameterValue": "GB"},
        {"ParameterKey": "OpeningHours", "ParameterValue": json.dumps(given)},
        {"ParameterKey": "ReturnKeyDays", "ParameterValue": "14"},
    ]
    _answers(stubber, stack)

    written, _ = web_config.build(client, "kindred", out_dir=tmp_path / "web")
    config = json.loads(written.read_text(encoding="utf-8"))

    assert set(config) == set(_documented_config())
    assert config["defaultCountry"] == "GB"
    assert config["hours"] == given
    assert config["returnKeyDays"] == 14


def test_every_config_key_the_pages_read_is_there(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given the seeker page and the volunteer console, which read config.json
    When they load the generated one
    Then every config.<key> and cognito.<key> they read (but the local endpoint, and the
    hours of a stack open 24/7) is in it
    """
    client, stubber = cloudformation
    _answers(stubber, _stack(OUTPUTS))
    scripts = " ".join(p.read_text(encoding="utf-8") for p in (ROOT / "web" / "js").glob("*.js"))

    written, _ = web_config.build(client, "kindred", out_dir=tmp_path / "web")
    config = json.loads(written.read_text(encoding="utf-8"))

    read = set(re.findall(r"\bconfig\.(\w+)", scripts)) - {"json"}
    read_of_cognito = set(re.findall(r"\bcognito\.(\w+)", scripts)) - {"endpoint"}
    # `hours` is there only when the stack has OpeningHours (docs/protocol.md: absent, 24/7);
    # test_config_json_gives_the_stacks_country_and_opening_hours shows it then.
    assert "hours" in read
    assert read and read - {"hours"} <= set(config)
    assert read_of_cognito and read_of_cognito <= set(config["cognito"])


def test_the_build_is_the_pages_and_config_json_without_the_inputs(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given web/ and a build left from an earlier run (with a page since removed)
    When web-config runs
    Then the output holds every page, script and style of web/ and config.json, not
    site.json (an input) nor the stale page
    """
    client, stubber = cloudformation
    _answers(stubber, _stack(OUTPUTS))
    out = tmp_path / "web"
    out.mkdir()
    (out / "config.json").write_text("{}", encoding="utf-8")
    (out / "removed.html").write_text("old", encoding="utf-8")

    web_config.build(client, "kindred", out_dir=out)

    published = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    sources = {
        p.relative_to(ROOT / "web").as_posix()
        for p in (ROOT / "web").rglob("*")
        if p.is_file() and p.name not in ("site.json", "config.json")
    }
    assert published == sources | {"config.json"}
    assert {"index.html", "volunteer.html", "js/kindred-client.js"} <= published


def _policy(html: str) -> dict[str, str]:
    """The directives of a page's Content-Security-Policy <meta>, by name."""
    found = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    assert found, "the page has no Content-Security-Policy <meta>"
    directives = (d.strip().split(" ", 1) for d in found.group(1).split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def test_the_built_pages_connect_only_to_the_stacks_api_and_cognito(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given web/, whose pages' Content-Security-Policy lets them connect to any wss:/https: host
    (and the local stack's ws:/loopback)
    When web-config builds them for a stack
    Then each page may connect only to itself, the stack's WebSocket API and its region's
    Cognito, and every other directive is as in web/
    """
    client, stubber = cloudformation
    _answers(stubber, _stack(OUTPUTS))
    out = tmp_path / "web"

    web_config.build(client, "kindred", out_dir=out)

    for name in ("index.html", "volunteer.html"):
        source = _policy((ROOT / "web" / name).read_text(encoding="utf-8"))
        built = _policy((out / name).read_text(encoding="utf-8"))
        assert built["connect-src"] == (
            "'self' wss://abc123defg.execute-api.eu-west-1.amazonaws.com"
            " https://cognito-idp.eu-west-1.amazonaws.com"
        )
        assert {k: v for k, v in built.items() if k != "connect-src"} == {
            k: v for k, v in source.items() if k != "connect-src"
        }
        assert "ws:" in source["connect-src"].split()  # what the build took away


def test_it_never_replaces_a_directory_it_did_not_make(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given an --out directory with files and no config.json (not an earlier build)
    When web-config runs
    Then it refuses and leaves the directory as it was
    """
    client, stubber = cloudformation
    _answers(stubber, _stack(OUTPUTS))
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")

    with pytest.raises(web_config.WebConfigError, match="not an earlier build"):
        web_config.build(client, "kindred", out_dir=tmp_path)

    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_stack_without_the_outputs_is_named_with_what_is_missing(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given a stack that is not Kindred's, or whose first deploy failed (no outputs)
    When web-config runs
    Then it fails naming the missing outputs, and writes nothing
    """
    client, stubber = cloudformation
    _answers(stubber, _stack({"WebSocketUrl": URL, "Region": REGION}))

    with pytest.raises(web_config.WebConfigError, match="UserPoolId, UserPoolClientId"):
        web_config.build(client, "kindred", out_dir=tmp_path / "web")

    assert not (tmp_path / "web").exists()


def test_a_missing_stack_says_to_deploy_or_name_it(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given no stack of that name in the region
    When web-config runs
    Then it says so, with the region, and how to fix it
    """
    client, stubber = cloudformation
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id kindred does not exist",
        http_status_code=400,
        expected_params={"StackName": "kindred"},
    )

    with pytest.raises(web_config.WebConfigError, match=r"no stack 'kindred' in eu-west-1.*STACK="):
        web_config.build(client, "kindred", out_dir=tmp_path / "web")


def test_an_origin_the_stack_refuses_is_caught_before_publishing(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given a stack deployed with the default AllowedOrigins (the local pages only)
    When the operator builds for https://help.example.org
    Then web-config refuses, with the sam deploy command that admits that origin
    """
    client, stubber = cloudformation
    _answers(stubber, _stack(OUTPUTS, origins="http://localhost:8080,http://127.0.0.1:8080"))

    with pytest.raises(web_config.WebConfigError) as refused:
        web_config.build(
            client, "kindred", out_dir=tmp_path / "web", origin="https://help.example.org/"
        )

    assert "sam deploy --parameter-overrides AllowedOrigins=https://help.example.org" in str(
        refused.value
    )
    assert not (tmp_path / "web").exists()


def test_a_stack_that_admits_only_local_pages_is_a_warning_without_origin(
    cloudformation: tuple[Any, Stubber], tmp_path: Path
) -> None:
    """
    Given a stack deployed with the default AllowedOrigins
    When web-config runs without --origin
    Then it builds, and warns that the published page would be refused
    """
    client, stubber = cloudformation
    _answers(stubber, _stack(OUTPUTS, origins="http://localhost:8080,http://127.0.0.1:8080"))

    _, warnings = web_config.build(client, "kindred", out_dir=tmp_path / "web")

    assert len(warnings) == 1
    assert "AllowedOrigins=https://help.example.org" in warnings[0]


@pytest.mark.parametrize(
    ("site", "complaint"),
    [
        ({"topics": [{"id": "Anxiety!", "label": "Anxiety"}], "languages": ["en"]}, "every topic"),
        ({"topics": [], "languages": []}, "non-empty list of languages"),
        ({"topics": [], "languages": ["english"]}, "not a language tag"),
        (
            {"topics": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}], "languages": ["en"]},
            "appears twice",
        ),
        ({"topics": [], "languages": ["en"], "cannedReplies": ["Hi"]}, "cannedReplies"),
        ({"topics": [], "languages": ["en"], "cannedReplies": {"fr": ["Salut"]}}, "cannedReplies"),
        ({"topics": [], "languages": ["en"], "cannedReplies": {"en": [" "]}}, "cannedReplies"),
        (
            {"topics": [], "languages": ["en"], "cannedReplies": {"en": ["x" * 4001]}},
            "cannedReplies",
        ),
        ({"topics": [], "languages": ["en"], "cannedReplies": {"en": "Hi"}}, "cannedReplies"),
    ],
)
def test_a_site_json_the_server_would_refuse_is_refused_first(
    tmp_path: Path, site: dict[str, Any], complaint: str
) -> None:
    """
    Given a web/site.json with a topic id or language the protocol would refuse, or canned
    replies that are not lists of replies (1 to 4000 characters) by one of the site's languages
    When web-config reads it
    Then it fails naming the file, before asking AWS anything
    """
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site), encoding="utf-8")

    with pytest.raises(web_config.WebConfigError, match=complaint):
        web_config.site_settings(path)


def test_stack_and_region_default_to_samconfig(tmp_path: Path) -> None:
    """
    Given samconfig.toml, where `sam deploy` takes its stack name and region
    When web-config runs without --stack and --region
    Then it asks about the same stack in the same region
    """
    assert web_config.samconfig_defaults(ROOT / "samconfig.toml") == {
        "stack_name": "kindred",
        "region": "us-east-1",
    }
    assert web_config.samconfig_defaults(tmp_path / "absent.toml") == {}


def test_the_command_builds_from_a_stack_in_moto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given a stack in (moto's) CloudFormation with Kindred's outputs and a published origin
    When `python -m tools.web_config --stack ... --region ... --out ... --origin ...` runs
    Then it exits 0, having written config.json from that stack, and says where to publish
    """
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    template = {
        # String, not CommaDelimitedList: moto describes a list parameter as Python's repr of
        # a list, where CloudFormation gives back the comma-separated text it was given.
        "Parameters": {"AllowedOrigins": {"Type": "String"}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "WebSocketUrl": {"Value": URL},
            "UserPoolId": {"Value": OUTPUTS["UserPoolId"]},
            "UserPoolClientId": {"Value": OUTPUTS["UserPoolClientId"]},
            "Region": {"Value": {"Ref": "AWS::Region"}},
        },
    }
    out = tmp_path / "build" / "web"
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="kindred-test",
            TemplateBody=json.dumps(template),
            Parameters=[
                {
                    "ParameterKey": "AllowedOrigins",
                    "ParameterValue": "https://help.example.org,https://www.example.org",
                }
            ],
        )
        status = web_config.main(
            [
                *("--stack", "kindred-test", "--region", REGION),
                *("--out", str(out), "--origin", "https://www.example.org"),
            ]
        )

    assert status == 0
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["websocketUrl"] == URL
    assert config["cognito"]["region"] == REGION
    assert f"publish {out}/" in capsys.readouterr().out


def test_a_failure_is_one_line_and_exit_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given no such stack in (moto's) CloudFormation
    When the command runs
    Then it exits 1 with one line saying what is wrong, no traceback
    """
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        status = web_config.main(
            ["--stack", "absent", "--region", REGION, "--out", str(tmp_path / "web")]
        )

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("web-config: there is no stack 'absent' in eu-west-1")
    assert "Traceback" not in err
