"""The domain runs against ports: only kindred/aws/ imports the adapters (issue 10)."""

from __future__ import annotations

from pathlib import Path

from tools import check_imports


def test_no_domain_module_imports_an_adapter_or_boto3() -> None:
    """Given layers/core/kindred/, then no module outside aws/ imports kindred.aws, boto3 or
    botocore, at the top or inside a function."""
    assert check_imports.breaches() == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    """Given a domain module that imports an adapter lazily, or names `aws` from the package,
    then the check reports each, with its line."""
    package = tmp_path / "kindred"
    (package / "aws").mkdir(parents=True)
    (package / "aws" / "dynamo.py").write_text("import boto3\n", encoding="utf-8")
    (package / "chat.py").write_text(
        "def handle():\n    from kindred.aws.dynamo import DynamoStore\nfrom kindred import aws\n",
        encoding="utf-8",
    )
    assert check_imports.breaches(package, tmp_path) == [
        "kindred/chat.py:2: imports kindred.aws.dynamo",
        "kindred/chat.py:3: imports kindred.aws",
    ]
