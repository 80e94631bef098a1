"""Adapters: the only modules that call boto3."""
