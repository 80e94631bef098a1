"""match and availability: parse the frame, serve it, answer errors as `error` frames.

A function of its own (not the chat function) for its role: it seals intros and queues work.
"""

from kindred.aws.frames import handle_frame as lambda_handler

__all__ = ["lambda_handler"]
