"""The chat actions and $default: message, typing, end, report, block, feedback, supervision,
and the rest."""

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
