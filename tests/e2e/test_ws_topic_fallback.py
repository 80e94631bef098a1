"""End to end on a local stack whose topic wait is 1 s: the delayed work item, through the
local SQS poller, is what matches a seeker after their topic wait when nothing else happens."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from local.stack import LocalStack
from tests.e2e.ws import frames_until, running_stack

VOLUNTEER = "volunteer@example.org"
WAIT = 10


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with running_stack({"TopicFallbackSeconds": "1"}) as running:
        yield running


def test_a_seeker_waits_for_their_topic_then_the_volunteer_free_since_takes_them(
    stack: LocalStack,
) -> None:
    """
    Given a local stack whose topic wait is 1 s, and the demo volunteer available for anxiety
    When a seeker asks about grief, and nothing else happens
    Then the seeker hears `queued`, no `matched` for the first second, and `matched` with the
    demo volunteer soon after it: the delayed work item went through the local poller
    """
    token = stack.id_token(VOLUNTEER)
    origin = stack.web_origin
    with (
        connect(f"{stack.ws_url}?token={token}", origin=origin, open_timeout=WAIT) as volunteer,  # type: ignore[arg-type]
        connect(f"{stack.ws_url}?lang=en", origin=origin, open_timeout=WAIT) as seeker,  # type: ignore[arg-type]
    ):
        volunteer.send(
            json.dumps({"action": "availability", "available": True, "topics": ["anxiety"]})
        )
        assert [f["type"] for f in frames_until(volunteer, "status", WAIT)] == ["status"]

        asked_at = time.monotonic()
        seeker.send(json.dumps({"action": "match", "topics": ["grief"]}))
        first_second = frames_until(seeker, "matched", 0.8)
        later = frames_until(seeker, "matched", WAIT)
        matched_at = time.monotonic()

    assert [f["type"] for f in first_second] == ["queued"]
    assert [f["type"] for f in later] == ["matched"]
    assert later[0]["peer"] == {"alias": "Demo Volunteer", "role": "volunteer"}
    assert matched_at - asked_at >= 1.0
