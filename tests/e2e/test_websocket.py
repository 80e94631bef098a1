"""End to end over real WebSockets: the local gateway, the deployed handlers, local AWS (moto).

What a browser or any client sees: the handshake (authorizer, Origin), route selection,
the chat between a seeker and the demo volunteer, API Gateway's limits and close codes,
$disconnect, and the @connections API the handlers post through.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.conftest import E2EStack
from tests.e2e.ws import wait_for

VOLUNTEER = "volunteer@example.org"
WAIT = 10  # seconds: every wait for a frame is bounded
ROOT_EVENTS = Path(__file__).resolve().parents[2] / "events"


class Peer:
    """One client socket: send JSON frames, wait for a frame of a given type."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.skipped: list[dict[str, Any]] = []

    @property
    def websocket_key(self) -> str:
        assert self.ws.request is not None
        return str(self.ws.request.headers["Sec-WebSocket-Key"])

    def send(self, frame: dict[str, Any] | str) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def next(self, timeout: float = WAIT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return frame

    def expect(self, frame_type: str, timeout: float = WAIT) -> dict[str, Any]:
        """The next frame of this type; frames of other types before it are kept in skipped."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.next(max(0.01, deadline - time.monotonic()))
            if frame.get("type") == frame_type:
                return frame
            self.skipped.append(frame)

    def closed_with(self, timeout: float = WAIT) -> int | None:
        """The close code the server sent, once the socket is closed."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        raise AssertionError("the socket stayed open")


@pytest.fixture
def open_peer(local_stack: E2EStack) -> Iterator[Callable[..., Peer]]:
    """Opens sockets to the local gateway (from the served page's Origin); closes them after."""
    sockets = ExitStack()

    def open_(query: str = "", *, origin: str | None = None, token: str | None = None) -> Peer:
        parts = [p for p in (query, f"token={token}" if token else "") if p]
        url = local_stack.ws_url + ("?" + "&".join(parts) if parts else "")
        ws = connect(
            url,
            origin=origin or local_stack.origin,  # type: ignore[arg-type]
            open_timeout=WAIT,
            close_timeout=2,
            max_size=None,
        )
        return Peer(sockets.enter_context(ws))

    with sockets:
        yield open_


@pytest.fixture
def recorded(local_stack: E2EStack) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(function, event) of every invocation while the test runs."""
    calls: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def observe(function: str, event: dict[str, Any], result: Any) -> None:
        with lock:
            calls.append((function, event))

    functions = local_stack.stack.functions.values()
    for function in functions:
        function.observers.append(observe)
    yield calls
    for function in functions:
        function.observers.remove(observe)


@contextlib.contextmanager
def gateway_limits(local_stack: E2EStack, **limits: float) -> Iterator[None]:
    """The gateway's limits changed for the sockets opened inside the block, as before after."""
    gateway = local_stack.stack.gateway
    assert gateway is not None
    previous = gateway.set_limits(**limits)
    try:
        yield
    finally:
        gateway.set_limits(**{name: getattr(previous, name) for name in limits})


def connections_api(local_stack: E2EStack) -> Any:
    """A boto3 client of the @connections endpoint the handlers are given."""
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=local_stack.stack.environment["WEBSOCKET_ENDPOINT"],
        region_name="us-east-1",
        **local_stack.stack.iam.admin,  # type: ignore[union-attr]  # IAM is enforced: an admin
    )


def connection_id_of(peer: Peer, calls: list[tuple[str, dict[str, Any]]]) -> str:
    """The id the gateway gave this socket, read from its $connect event."""

    def found() -> str | None:
        for function, event in list(calls):
            headers = event.get("headers") or {}
            if function == "ConnectFunction" and headers.get("Sec-WebSocket-Key") == (
                peer.websocket_key
            ):
                return str(event["requestContext"]["connectionId"])
        return None

    return str(wait_for(found))


def invocations(
    calls: list[tuple[str, dict[str, Any]]], function: str, connection_id: str
) -> list[dict[str, Any]]:
    """The events `function` was invoked with for this connection."""
    return [
        event
        for name, event in list(calls)
        if name == function and event["requestContext"]["connectionId"] == connection_id
    ]


def available_volunteer(open_peer: Callable[..., Peer], local_stack: E2EStack) -> Peer:
    volunteer = open_peer(token=local_stack.id_token(VOLUNTEER))
    volunteer.send({"action": "availability", "available": True, "languages": ["en"]})
    assert volunteer.expect("status")["available"] is True
    return volunteer


def matched_pair(open_peer: Callable[..., Peer], local_stack: E2EStack) -> tuple[Peer, Peer, str]:
    volunteer = available_volunteer(open_peer, local_stack)
    seeker = open_peer("lang=en")
    seeker.send({"action": "match", "topics": ["anxiety"], "intro": "Exams are close."})
    assert seeker.expect("queued")["position"] >= 1
    session_id = str(seeker.expect("matched")["sessionId"])
    assert volunteer.expect("matched")["sessionId"] == session_id
    return seeker, volunteer, session_id


# ---------------------------------------------------------------- the chat


def test_a_seeker_and_the_demo_volunteer_match_and_talk(
    local_stack: E2EStack, open_peer: Callable[..., Peer]
) -> None:
    """
    Given the demo volunteer, signed in with a real Cognito token and available
    When an anonymous seeker asks for a volunteer and the two write to each other
    Then the seeker is queued, both are matched (the seeker sees the volunteer's name, the
    volunteer the intro), and each message reaches the other with its seq
    """
    volunteer = available_volunteer(open_peer, local_stack)
    seeker = open_peer("lang=en")

    seeker.send({"action": "match", "topics": ["anxiety"], "intro": "Exams are close."})
    queued = seeker.expect("queued")
    seeker_side = seeker.expect("matched")
    volunteer_side = volunteer.expect("matched")
    seeker.send({"action": "message", "text": "Hello, are you there?", "seq": 0})
    heard = volunteer.expect("message")
    volunteer.send({"action": "message", "text": "I'm here. Take your time.", "seq": 0})
    answer = seeker.expect("message")
    seeker.send({"action": "message", "text": "Thank you", "seq": 1})
    second = volunteer.expect("message")

    assert queued["position"] == 1 and queued["resumeToken"]
    assert seeker_side["sessionId"] == volunteer_side["sessionId"]
    assert seeker_side["peer"] == {"alias": "Demo Volunteer", "role": "volunteer"}
    assert volunteer_side["peer"]["role"] == "seeker"
    assert volunteer_side["intro"] == "Exams are close."
    assert (heard["text"], heard["seq"]) == ("Hello, are you there?", 0)
    assert (answer["text"], answer["seq"]) == ("I'm here. Take your time.", 0)
    assert (second["text"], second["seq"]) == ("Thank you", 1)
    assert heard["sessionId"] == answer["sessionId"] == seeker_side["sessionId"]


def test_bad_frames_get_their_errors_and_the_socket_stays_open(
    open_peer: Callable[..., Peer],
) -> None:
    """
    Given a seeker's socket
    When it sends a frame that is not JSON, one with an unknown action, and a message
    without text
    Then each gets its error frame (through $default, and the route it named), and the
    socket still answers a ping
    """
    seeker = open_peer()

    seeker.send("this is not json")
    not_json = seeker.expect("error")
    seeker.send({"action": "fly"})
    unknown = seeker.expect("error")
    seeker.send({"action": "resources", "country": "not a country"})
    invalid = seeker.expect("error")
    seeker.send({"action": "ping"})
    pong = seeker.expect("pong")

    assert not_json["code"] == "invalid_json"
    assert unknown["code"] == "unknown_action"
    assert invalid["code"] == "invalid_request"
    assert invalid["action"] == "resources"
    assert pong == {"type": "pong"}


# ---------------------------------------------------------------- the handshake


def test_a_bad_token_is_refused_at_the_handshake_with_401(
    local_stack: E2EStack, open_peer: Callable[..., Peer]
) -> None:
    """
    Given a token that is not a Cognito ID token, and the demo volunteer's token with its
    signature broken
    When a client opens the socket with either
    Then the handshake is refused with HTTP 401 (never a fallback to seeker)
    """
    good = local_stack.id_token(VOLUNTEER)
    header, payload, signature = good.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"

    for token in ("not-a-jwt", forged):
        with pytest.raises(InvalidStatus) as refused:
            open_peer(token=token)
        assert refused.value.response.status_code == 401


def test_a_page_on_another_site_is_refused_with_403(open_peer: Callable[..., Peer]) -> None:
    """
    Given a page served from an origin the deployment does not allow
    When it opens the socket
    Then the handshake is refused with HTTP 403
    """
    with pytest.raises(InvalidStatus) as refused:
        open_peer(origin="https://evil.example")

    assert refused.value.response.status_code == 403


def test_a_wrong_path_is_refused_with_403(local_stack: E2EStack) -> None:
    """
    Given the gateway serves the stage's path only
    When a client opens a socket on another path
    Then it is refused with 403, as API Gateway refuses an unknown stage
    """
    url = local_stack.ws_url.rsplit("/", 1)[0] + "/elsewhere"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=local_stack.origin, open_timeout=WAIT)  # type: ignore[arg-type]

    assert refused.value.response.status_code == 403


# ---------------------------------------------------------------- limits and close codes


def test_a_frame_over_32_kb_closes_the_socket_with_1009(open_peer: Callable[..., Peer]) -> None:
    """
    Given an open socket
    When the client sends one frame of 33 KB
    Then the gateway closes the socket with 1009 (message too big), as API Gateway does
    """
    seeker = open_peer()

    with contextlib.suppress(ConnectionClosed):
        seeker.send(json.dumps({"action": "message", "text": "x" * (33 * 1024)}))

    assert seeker.closed_with() == 1009


def test_a_message_over_128_kb_closes_the_socket_with_1009(
    open_peer: Callable[..., Peer],
) -> None:
    """
    Given an open socket
    When the client sends a 160 KB message in frames of 32 KB (each under the frame limit)
    Then the gateway closes the socket with 1009: a message is at most 128 KB
    """
    seeker = open_peer()

    with contextlib.suppress(ConnectionClosed):  # the gateway may close it mid-message
        seeker.ws.send(["y" * (32 * 1024 - 100) for _ in range(5)])

    assert seeker.closed_with() == 1009


def test_a_message_in_fragments_under_the_limits_reaches_its_route(
    open_peer: Callable[..., Peer],
) -> None:
    """
    Given an open socket
    When the client sends a ping action split over three frames
    Then the gateway joins them into one message and the route answers
    """
    seeker = open_peer()

    seeker.ws.send(['{"action"', ': "pi', 'ng"}'])

    assert seeker.expect("pong") == {"type": "pong"}


def test_a_binary_frame_closes_the_socket_with_1003(open_peer: Callable[..., Peer]) -> None:
    """
    Given an open socket
    When the client sends a binary frame
    Then the gateway closes with 1003, as API Gateway does (it takes text frames only)
    """
    seeker = open_peer()

    seeker.ws.send(b'{"action": "ping"}')

    assert seeker.closed_with() == 1003


def test_an_idle_socket_is_closed_with_1001(
    local_stack: E2EStack, open_peer: Callable[..., Peer]
) -> None:
    """
    Given an idle timeout shortened to 0.5 s (10 minutes in API Gateway)
    When a client opens a socket and sends nothing
    Then the gateway closes it with 1001 (going away)
    """
    with gateway_limits(local_stack, idle_seconds=0.5):
        seeker = open_peer()

    assert seeker.closed_with(timeout=5) == 1001


def test_a_busy_socket_is_closed_at_the_maximum_duration(
    local_stack: E2EStack, open_peer: Callable[..., Peer]
) -> None:
    """
    Given a maximum connection time shortened to 1 s (2 hours in API Gateway)
    When a client keeps pinging every 0.2 s
    Then the gateway closes it with 1001 all the same
    """
    with gateway_limits(local_stack, max_seconds=1.0):
        seeker = open_peer()
    opened = time.monotonic()

    def keep_pinging() -> None:
        while time.monotonic() - opened < 5:
            seeker.send({"action": "ping"})
            seeker.expect("pong")
            time.sleep(0.2)

    with pytest.raises(ConnectionClosed) as closed:
        keep_pinging()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert time.monotonic() - opened >= 0.9


def test_a_dropped_seeker_is_away_for_the_volunteer(
    local_stack: E2EStack,
    open_peer: Callable[..., Peer],
    recorded: list[tuple[str, dict[str, Any]]],
) -> None:
    """
    Given a seeker and the demo volunteer in a chat
    When the seeker's network drops (no close frame)
    Then $disconnect runs with code 1006 and the volunteer gets `peer_away`: the seeker may
    resume within the grace period (after it, the sweeper ends the chat with `peer_left`:
    tests/e2e/test_ws_resume.py)
    """
    seeker, volunteer, session_id = matched_pair(open_peer, local_stack)
    seeker_id = connection_id_of(seeker, recorded)

    seeker.ws.socket.shutdown(socket.SHUT_RDWR)
    away = volunteer.expect("peer_away")

    disconnects = wait_for(lambda: invocations(recorded, "DisconnectFunction", seeker_id))

    assert away == {"type": "peer_away", "sessionId": session_id}
    assert [e["requestContext"]["disconnectStatusCode"] for e in disconnects] == [1006]


# ---------------------------------------------------------------- events and @connections


def test_the_events_are_what_powertools_parses_and_shaped_as_api_gateways(
    open_peer: Callable[..., Peer], recorded: list[tuple[str, dict[str, Any]]]
) -> None:
    """
    Given a seeker who connects, sends a frame and closes with 1000
    When the gateway invokes the authorizer, $connect, the route and $disconnect
    Then Powertools' WebSocket models accept the events; the authorizer's has every key of
    API Gateway's documented REQUEST event; $disconnect carries the client's close code
    """
    seeker = open_peer("lang=es")
    seeker_id = connection_id_of(seeker, recorded)
    seeker.send({"action": "ping"})
    seeker.expect("pong")
    seeker.ws.close(1000)
    wait_for(lambda: invocations(recorded, "DisconnectFunction", seeker_id))

    mine = [(f, e) for f, e in recorded if e["requestContext"]["connectionId"] == seeker_id]
    by_function = dict(mine)
    authorizer = by_function["AuthorizerFunction"]
    connected = parse(
        event=by_function["ConnectFunction"], model=APIGatewayWebSocketConnectEventModel
    )
    message = parse(event=by_function["ChatFunction"], model=APIGatewayWebSocketMessageEventModel)
    gone = parse(
        event=by_function["DisconnectFunction"], model=APIGatewayWebSocketDisconnectEventModel
    )
    documented = json.loads((ROOT_EVENTS / "authorizer.json").read_text())

    assert set(documented) <= set(authorizer)
    assert set(documented["requestContext"]) <= set(authorizer["requestContext"])
    assert authorizer["methodArn"].endswith("/live/$connect")
    assert authorizer["queryStringParameters"] == {"lang": "es"}
    assert connected.request_context.route_key == "$connect"
    assert by_function["ConnectFunction"]["requestContext"]["authorizer"]["role"] == "seeker"
    assert by_function["ConnectFunction"]["requestContext"]["authorizer"]["principalId"]
    assert message.request_context.route_key == "ping"
    assert message.body == '{"action": "ping"}'
    assert gone.request_context.disconnect_status_code == 1000
    assert gone.request_context.disconnect_reason == (
        "Client-side close frame status code '1000' (NORMAL_CLOSURE)"
    )


def test_the_connections_api_posts_gets_deletes_and_answers_410_when_gone(
    local_stack: E2EStack,
    open_peer: Callable[..., Peer],
    recorded: list[tuple[str, dict[str, Any]]],
) -> None:
    """
    Given an open socket and the @connections endpoint the handlers are given
    When boto3's apigatewaymanagementapi client posts to it, gets it, deletes it, then
    posts again, and posts to an id that never existed
    Then the frame arrives, GetConnection names the client, DeleteConnection closes the
    socket with 1000 and runs $disconnect, and both later posts are GoneException (410)
    """
    api = connections_api(local_stack)
    seeker = open_peer()
    seeker_id = connection_id_of(seeker, recorded)

    api.post_to_connection(ConnectionId=seeker_id, Data=b'{"type": "pong"}')
    delivered = seeker.next()
    described = api.get_connection(ConnectionId=seeker_id)
    api.delete_connection(ConnectionId=seeker_id)
    close_code = seeker.closed_with()
    with pytest.raises(ClientError) as after_delete:
        api.post_to_connection(ConnectionId=seeker_id, Data=b"{}")
    with pytest.raises(ClientError) as never:
        api.post_to_connection(ConnectionId="NoSuchConn0000=", Data=b"{}")
    disconnect = wait_for(lambda: invocations(recorded, "DisconnectFunction", seeker_id))

    assert delivered == {"type": "pong"}
    assert described["Identity"]["SourceIp"] == "127.0.0.1"
    assert described["ConnectedAt"] <= described["LastActiveAt"]
    assert close_code == 1000
    assert disconnect[0]["requestContext"]["disconnectStatusCode"] == 1000
    for refused in (after_delete.value, never.value):
        assert refused.response["Error"]["Code"] == "GoneException"
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 410
        assert isinstance(refused, api.exceptions.GoneException)


def test_a_post_over_128_kb_is_refused_with_413_and_one_over_32_kb_arrives_whole(
    local_stack: E2EStack,
    open_peer: Callable[..., Peer],
    recorded: list[tuple[str, dict[str, Any]]],
) -> None:
    """
    Given an open socket
    When the @connections API is asked to post 100 KB, then 129 KB
    Then the 100 KB message arrives whole (sent in frames of at most 32 KB), and the
    129 KB one is PayloadTooLargeException (413)
    """
    api = connections_api(local_stack)
    seeker = open_peer()
    seeker_id = connection_id_of(seeker, recorded)
    big = json.dumps({"type": "resources", "pad": "z" * (100 * 1024)}).encode()

    api.post_to_connection(ConnectionId=seeker_id, Data=big)
    arrived = seeker.ws.recv(timeout=WAIT)
    with pytest.raises(ClientError) as too_large:
        api.post_to_connection(ConnectionId=seeker_id, Data=b"a" * (129 * 1024))

    assert arrived == big.decode()
    assert too_large.value.response["Error"]["Code"] == "PayloadTooLargeException"
    assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


# ---------------------------------------------------------------- risk levels (issue 8)

SUPERVISOR = "supervisor@example.org"
# The final detector rates this imminent (an overdose just taken). The tests below expect the
# level the detector in this tree gives it, read at test time, so that they hold now and mean
# the same once the detector knows it: `IMMINENT_LEVEL` is None (no risk read) with the
# interim rules of this tree.
IMMINENT_TEXT = "I took a whole bottle of pills an hour ago and I'm starting to feel dizzy"


def test_the_seekers_words_and_the_volunteers_judgement_set_the_chats_level(
    local_stack: E2EStack, open_peer: Callable[..., Peer]
) -> None:
    """
    Given the demo supervisor on shift, and a seeker in a chat with the demo volunteer
    When the seeker writes that they took a whole bottle of pills an hour ago
    Then the chat is at the level the detector reads (imminent with the final detector): the
    volunteer and the supervisor get a risk alert at it, the seeker crisis lines;
    and when the volunteer then assesses the chat as concern and then imminent,
    Then each answer is `assessed`, each rise alerts the supervisor (never the volunteer, whose
    judgement it is) with the level, the volunteer's name, the seeker's alias, the chat and
    when it started, and the seeker gets crisis lines once in the chat
    """
    from kindred.records import level_rank
    from kindred.safety import assess

    expected = assess(IMMINENT_TEXT).level
    supervisor = open_peer(token=local_stack.id_token(SUPERVISOR))
    volunteer = available_volunteer(open_peer, local_stack)
    seeker = open_peer("lang=en")
    seeker.send({"action": "match", "intro": "Thank you for being here."})
    seeker.expect("queued")
    session_id = str(seeker.expect("matched")["sessionId"])
    matched = volunteer.expect("matched")
    alias = matched["peer"]["alias"]
    assert matched["sessionId"] == session_id and "risk" not in matched

    seeker.send({"action": "message", "text": IMMINENT_TEXT, "seq": 0})
    assert volunteer.expect("message")["text"] == IMMINENT_TEXT
    supervisor_alerts: list[dict[str, Any]] = []
    crisis_lines = 0
    if expected is not None:
        assert volunteer.expect("alert")["level"] == expected
        supervisor_alerts.append(supervisor.expect("alert"))
        crisis_lines += seeker.expect("resources")["reason"] == "crisis"

    current = expected
    for level in ("concern", "imminent"):
        volunteer.send({"action": "assess", "sessionId": session_id, "level": level})
        assert volunteer.expect("assessed") == {
            "type": "assessed",
            "sessionId": session_id,
            "level": level,
        }
        if level_rank(level) > level_rank(current):  # a rise: the supervisor hears of it
            supervisor_alerts.append(supervisor.expect("alert"))
            if not crisis_lines:
                crisis_lines += seeker.expect("resources")["reason"] == "crisis"
        current = level

    rises = [expected] if expected else []
    rises += ["concern"] if expected is None else []
    assert [a["level"] for a in supervisor_alerts] == [*rises, "imminent"]
    last = supervisor_alerts[-1]
    assert {k: last[k] for k in ("type", "kind", "sessionId", "volunteer", "seeker")} == {
        "type": "alert",
        "kind": "risk",
        "sessionId": session_id,
        "volunteer": "Demo Volunteer",
        "seeker": alias,
    }
    assert last["startedAt"] <= last["at"] and last["at"].endswith("Z")
    assert crisis_lines == 1
    # Nothing else came: no alert to the volunteer for their own judgement, no second
    # crisis lines, no other alert to the supervisor.
    for peer in (volunteer, supervisor, seeker):
        peer.send({"action": "ping"})
        peer.expect("pong")
    assert [f for f in volunteer.skipped if f["type"] == "alert"] == []
    assert [f for f in supervisor.skipped if f["type"] == "alert"] == []
    assert [f for f in seeker.skipped if f["type"] == "resources"] == []
