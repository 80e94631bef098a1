"""Kindred: the shared package of every Lambda function (protocol, domain, AWS adapters)."""
