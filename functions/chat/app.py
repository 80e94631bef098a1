"""The chat actions and $default: message, typing, end, report, block, feedback, supervision,
and the rest."""

from kindred import cold_start
from kindred.aws.frames import frame_handler

# Exactly the template's routes to ChatFunction (tests/template checks it).
ROUTES = (
    "message",
    "typing",
    "end",
    "report",
    "block",
    "feedback",
    "resources",
    "transfer",
    "forget",
    "assess",
    "referral",
    "reauth",
    "checkin",
    "escalate",
    "join",
    "whisper",
    "leave",
    "board",
    "remember",
    "ping",
    "$default",
)
lambda_handler = frame_handler(*ROUTES)

cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
