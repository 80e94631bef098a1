"""match and availability: parse the frame, serve it, answer errors as `error` frames.

A function of its own (not the chat function) for its role: it seals intros and queues work.
"""

# Its routes' module, imported with the app (kindred.chat imports it on a first `match`).
import kindred.matching  # noqa: F401
from kindred import cold_start
from kindred.aws.frames import frame_handler

# Exactly the template's routes to MatchFunction (tests/template checks it).
ROUTES = ("match", "availability")
lambda_handler = frame_handler(*ROUTES)

cold_start.imported()  # last: what the import made, out of the collector's way (issue 14)
