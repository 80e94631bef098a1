"""Privacy: what a seeker or volunteer writes never reaches DynamoDB, SQS or the logs."""

from __future__ import annotations

import ast
import importlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_calls import record_aws_calls
from tests.world import ROOT, World

INTRO_MARK = "zebrafinch"
SEEKER_MARK = "marmalade"
VOLUNTEER_MARK = "lighthouse"
NOTE_MARK = "tangerine"
CRISIS = "honestly I want to kill myself tonight"


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the handlers logged: each record's message and its extra fields (the JSON
    lines Powertools prints carry the extras, which caplog.text leaves out)."""
    return caplog.text + repr([vars(record) for record in caplog.records])


def test_no_text_is_stored_sent_to_sqs_or_logged(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given a whole chat (intro, messages both ways, a crisis message, bad frames quoting the
    text, a transfer with a note, feedback with a comment, a report with details), when we look
    at every AWS call made, every item left in the table, and every log line, then none of the
    texts is there; they went only to the other person's socket."""
    caplog.set_level(logging.DEBUG)
    with record_aws_calls() as calls:
        seeker = world.connect()
        world.send(seeker, {"action": "match", "intro": f"my {INTRO_MARK} story"})
        vol = world.connect("volunteer", user_id="v1", alias="Vee")
        world.send(vol, {"action": "availability", "available": True, "capacity": 2})
        world.run_matcher()
        world.send(seeker, {"action": "message", "text": f"about {SEEKER_MARK} again"})
        world.send(vol, {"action": "message", "text": f"the {VOLUNTEER_MARK} helps"})
        world.send(seeker, {"action": "message", "text": CRISIS})
        world.send(seeker, {"action": "message", "text": f"{SEEKER_MARK} " * 800})  # too long
        world.send(seeker, f'{{"action": "message", "text": "{SEEKER_MARK}"')  # not JSON
        world.send(
            seeker, {"action": "report", "reason": "other", "details": f"{SEEKER_MARK} details"}
        )
        session = next(f["sessionId"] for f in world.all_frames(vol) if f["type"] == "matched")
        world.send(vol, {"action": "transfer", "sessionId": session, "note": f"{NOTE_MARK} note"})
        vol2 = world.connect("volunteer", user_id="v2", alias="Wim")
        world.send(vol2, {"action": "availability", "available": True})
        world.run_matcher()
        world.send(seeker, {"action": "end"})
        world.send(
            seeker,
            {
                "action": "feedback",
                "sessionId": next(
                    f["sessionId"]
                    for f in reversed(world.all_frames(seeker))
                    if f["type"] == "ended"
                ),
                "rating": 5,
                "comment": f"{SEEKER_MARK} thanks",
            },
        )
        items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]

    # The texts did reach the people they were for...
    vol_frames = str(world.all_frames(vol))
    assert INTRO_MARK in vol_frames and SEEKER_MARK in vol_frames
    assert NOTE_MARK in str(world.all_frames(vol2))
    assert VOLUNTEER_MARK in str(world.all_frames(seeker))
    # ...and nowhere else.
    marks = (INTRO_MARK, SEEKER_MARK, VOLUNTEER_MARK, NOTE_MARK, "kill myself")
    stored_or_queued = [
        (service, op, params)
        for service, op, params in calls
        if service != "apigatewaymanagementapi"
    ]
    assert {s for s, _, _ in stored_or_queued} >= {"dynamodb", "sqs"}
    out = capsys.readouterr()  # read once: a second read sees only what came after the first
    for mark in marks:
        assert mark not in str(stored_or_queued), f"{mark} was sent to DynamoDB or SQS"
        assert mark not in str(items), f"{mark} is stored in the table"
        assert mark not in out.out and mark not in out.err, f"{mark} was logged"
        assert mark not in _logged(caplog), f"{mark} was logged"
    assert any(s == "sqs" and op == "SendMessage" for s, op, _ in calls)
    assert any(op == "TransactWriteItems" for _, op, _ in calls)
    # The report is an item of who, which chat, why and when: its details went nowhere.
    [report] = [i for i in items if i["pk"]["S"].startswith("REPORT#")]
    assert set(report) == {
        "pk",
        "sk",
        "sessionId",
        "reason",
        "reporterRole",
        "createdAt",
        "expiresAt",
    }


def test_supervision_stores_sends_to_sqs_and_logs_no_text(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Given a chat a supervisor follows on the board (issue 12), when the volunteer asks for
    help with a note, the supervisor joins, the three write, the two whisper, the board is
    pushed and the supervisor leaves, then no note, whisper or message is in any AWS call but
    the posts to the people it was for, in the table, or in a log line; the board carries
    none of them."""
    note, whisper, said = "quokka", "pangolin", "axolotl"
    caplog.set_level(logging.DEBUG)
    with record_aws_calls() as calls:
        boss = world.connect("supervisor", user_id="boss", alias="Boss")
        world.send(boss, {"action": "board", "subscribe": True})
        seeker = world.connect()
        world.send(seeker, {"action": "match"})
        vol = world.connect("volunteer", user_id="v1", alias="Vee")
        world.send(vol, {"action": "availability", "available": True})
        world.run_matcher()
        session = next(f["sessionId"] for f in world.all_frames(vol) if f["type"] == "matched")
        world.send(vol, {"action": "escalate", "note": f"{note} note"})
        world.send(boss, {"action": "join", "sessionId": session})
        world.send(seeker, {"action": "message", "text": f"{said} from the seeker"})
        world.send(boss, {"action": "message", "sessionId": session, "text": f"{said} too"})
        world.send(vol, {"action": "whisper", "text": f"{whisper} to the supervisor"})
        world.send(boss, {"action": "whisper", "sessionId": session, "text": f"{whisper} back"})
        world.advance(2)
        world.run_matcher()  # the board's push
        world.send(boss, {"action": "leave", "sessionId": session})
        items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]

    boards = [f for f in world.all_frames(boss) if f["type"] == "board"]
    assert len(boards) >= 2 and boards[-1]["chats"][0]["escalated"] is True
    assert note in str(world.all_frames(boss)) and whisper in str(world.all_frames(vol))
    not_posted = [(s, op, params) for s, op, params in calls if s != "apigatewaymanagementapi"]
    out = capsys.readouterr()
    for mark in (note, whisper, said):
        assert mark not in str(not_posted), f"{mark} was sent to DynamoDB or SQS"
        assert mark not in str(items), f"{mark} is stored in the table"
        assert mark not in str(boards), f"{mark} is on the board"
        assert mark not in out.out and mark not in out.err, f"{mark} was logged"
        assert mark not in _logged(caplog), f"{mark} was logged"
    assert whisper not in str(world.all_frames(seeker))


# ---- log_event pinned off (issue 11, hardening) ---------------------------------------------


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target)


def _handler_sources() -> list[Path]:
    """Every file a Lambda handler is defined in: functions/*/app.py and the layer's modules."""
    return sorted((ROOT / "functions").glob("*/app.py")) + sorted(
        (ROOT / "layers" / "core" / "kindred").rglob("*.py")
    )


def test_every_handler_pins_log_event_off() -> None:
    """Given every functions/*/app.py and every module of the layer, then each use of
    Powertools' `inject_lambda_context` passes `log_event=False` itself (so the environment's
    POWERTOOLS_LOGGER_LOG_EVENT cannot turn event logging on), and every function's
    `lambda_handler` is such a decorated function or is imported from one."""
    decorated: set[str] = set()
    unpinned: list[str] = []
    for path in _handler_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for deco in node.decorator_list:
                if not _decorator_name(deco).endswith("inject_lambda_context"):
                    continue
                decorated.add(f"{path.relative_to(ROOT)}:{node.name}")
                pinned = isinstance(deco, ast.Call) and any(
                    kw.arg == "log_event"
                    and isinstance(kw.value, ast.Constant)
                    and kw.value.value is False
                    for kw in deco.keywords
                )
                if not pinned:
                    unpinned.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert unpinned == [], f"inject_lambda_context without log_event=False: {unpinned}"

    apps = sorted((ROOT / "functions").glob("*/app.py"))
    assert len(apps) >= 7
    for app in apps:
        tree = ast.parse(app.read_text(encoding="utf-8"))
        here = f"{app.relative_to(ROOT)}:lambda_handler"
        # lambda_handler imported from the layer, or made there (`frame_handler(*ROUTES)`).
        made_by = {
            target.id: node.value.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            if isinstance(node.value.func, ast.Name)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        wanted = {"lambda_handler", made_by.get("lambda_handler", "lambda_handler")}
        imported = [
            f"layers/core/{node.module.replace('.', '/')}.py:{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
            if (alias.asname or alias.name) in wanted
        ]
        # A factory's handler is the decorated function defined inside it.
        imported += [
            f"{name.split(':')[0]}:handle_frame" for name in imported if name.endswith("_handler")
        ]
        assert here in decorated or any(name in decorated for name in imported), (
            f"{app.relative_to(ROOT)}: lambda_handler is not decorated with inject_lambda_context"
        )


@pytest.fixture
def log_events_on(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """POWERTOOLS_LOGGER_LOG_EVENT=true, as an operator might set it, read by every handler
    decorated from now on (the shared frame handler is re-imported to read it too)."""
    import kindred.aws.frames

    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    importlib.reload(kindred.aws.frames)
    yield
    monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT")
    importlib.reload(kindred.aws.frames)


def test_no_handler_logs_its_event_even_when_the_environment_asks(
    log_events_on: None,
    aws_iam: tuple[dict[str, str], Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Given POWERTOOLS_LOGGER_LOG_EVENT=true in the functions' environment, when a seeker and
    a volunteer connect, match, write to each other, send bad frames, disconnect, and the
    matcher and the sweeper run, then the handlers log as usual (the capture works) and none
    of the texts is in any log line."""
    caplog.set_level(logging.DEBUG)
    env, iam = aws_iam
    world = World(iam, env["MATCH_QUEUE_URL"])  # handlers decorated now
    seeker = world.connect()
    world.send(seeker, {"action": "match", "intro": f"my {INTRO_MARK} story"})
    vol = world.connect("volunteer", user_id="v1", alias="Vee")
    world.send(vol, {"action": "availability", "available": True})
    world.run_matcher()
    world.send(seeker, {"action": "message", "text": f"about {SEEKER_MARK} again"})
    world.send(vol, {"action": "message", "text": f"the {VOLUNTEER_MARK} helps"})
    world.send(seeker, {"action": "message", "text": SEEKER_MARK, "seq": "1"})  # refused
    world.send(seeker, f'{{"action": "message", "text": "{SEEKER_MARK}"')  # not JSON
    world.sweep()
    world.disconnect(seeker)
    world.disconnect(vol)

    assert VOLUNTEER_MARK in str(world.all_frames(seeker))  # the chat did happen
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err
    assert {"connected", "refused", "disconnected"} <= set(caplog.messages), "no log captured"
    for mark in (INTRO_MARK, SEEKER_MARK, VOLUNTEER_MARK):
        assert mark not in logged, f"{mark} was logged"
