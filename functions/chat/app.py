"""The chat actions and $default: message, typing, end, report, block, feedback, and the rest."""

from kindred.aws.frames import handle_frame as lambda_handler

__all__ = ["lambda_handler"]
