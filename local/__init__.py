"""The local stack: a development tool that runs the deployed handlers on local AWS services."""
