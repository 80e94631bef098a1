"""Operator tools run from a checkout (never deployed): building the web frontend for the cloud."""
