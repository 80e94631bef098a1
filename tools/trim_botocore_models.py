"""Writes the botocore data kindred's clients load: the pinned botocore's, trimmed to its calls.

    .venv/bin/python -m tools.trim_botocore_models            # rewrite kindred/aws/botocore_data
    .venv/bin/python -m tools.trim_botocore_models --out DIR  # write elsewhere

A cold start spends most of a client's build in botocore's data: listing the ~400 services
of botocore/data (twice), parsing the whole endpoints.json (1.2 MB) and each service's full
model (SSM's alone is 0.9 MB). kindred.aws.clients builds its clients from this directory
instead, as botocore's own data directory: each service's model keeps only the operations
Kindred calls (OPERATIONS) and the shapes they reach (every error shape too, so a client's
`exceptions` are the same), without documentation; endpoints.json keeps only these services;
the endpoint rule sets, partitions.json, _retry.json and sdk-default-configuration.json are
copied as they are; VERSION names the botocore they come from (under an older one, as a Lambda
runtime's may be, the clients read that botocore's own data). Everything comes from the
installed botocore (pinned in requirements/dev.lock): run this after upgrading it
(tests/unit/test_botocore_data.py fails until the files are what this writes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from botocore.loaders import Loader

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "layers" / "core" / "kindred" / "aws" / "botocore_data"

# Every operation kindred's adapters call, by service (None: all of them).
# tests/unit/test_botocore_data.py checks that every operation named in kindred/aws's source
# and every action the functions' roles are granted in template.yaml is here.
OPERATIONS: dict[str, tuple[str, ...] | None] = {
    "dynamodb": (
        "BatchGetItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "TransactWriteItems",
        "UpdateItem",
    ),
    "apigatewaymanagementapi": None,  # PostToConnection, DeleteConnection, GetConnection
    "sqs": ("SendMessage",),
    "ssm": ("GetParameter", "PutParameter", "DeleteParameter"),  # the latter two: SealingKey
    "cognito-idp": (
        "AdminAddUserToGroup",
        "AdminCreateUser",
        "AdminDeleteUser",
        "AdminDisableUser",
        "AdminEnableUser",
        "AdminListGroupsForUser",
        "AdminRemoveUserFromGroup",
        "AdminUserGlobalSignOut",
        "ListUsers",
        "ListUsersInGroup",
    ),
}
# Read as they are by every client (botocore.session and botocore.client).
COPIED = ("partitions", "_retry", "sdk-default-configuration")
_DOCUMENTATION = ("documentation", "documentationUrl")


def _undocumented(node: Any) -> Any:
    """`node` without its documentation strings (a member named so is a dict: kept)."""
    if isinstance(node, dict):
        return {
            key: _undocumented(value)
            for key, value in node.items()
            if not (key in _DOCUMENTATION and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_undocumented(value) for value in node]
    return node


def _reached(shapes: dict[str, Any], roots: list[str]) -> set[str]:
    """The names of the shapes `roots` reach (members, list members, map keys and values)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        refs = [*shape.get("members", {}).values()]
        refs += [shape[key] for key in ("member", "key", "value") if key in shape]
        todo += [ref["shape"] for ref in refs]
    return seen


def trimmed_model(model: dict[str, Any], operations: tuple[str, ...] | None) -> dict[str, Any]:
    """`model` (a service-2 document) with only `operations` and the shapes they reach."""
    kept = {
        name: op
        for name, op in model["operations"].items()
        if operations is None or name in operations
    }
    missing = set(operations or ()) - set(kept)
    if missing:
        raise SystemExit(f"not in {model['metadata']['serviceId']}'s model: {sorted(missing)}")
    shapes = model["shapes"]
    roots = [name for name, shape in shapes.items() if shape.get("exception")]
    for op in kept.values():
        roots += [op[key]["shape"] for key in ("input", "output") if key in op]
        roots += [error["shape"] for error in op.get("errors", [])]
    reached = _reached(shapes, roots)
    trimmed = dict(model)
    trimmed["operations"] = kept
    trimmed["shapes"] = {name: shape for name, shape in shapes.items() if name in reached}
    undocumented: dict[str, Any] = _undocumented(trimmed)
    return undocumented


def trimmed_endpoints(endpoints: dict[str, Any], prefixes: set[str]) -> dict[str, Any]:
    """endpoints.json with, in each partition, only the services whose prefix is in `prefixes`."""
    partitions = []
    for partition in endpoints["partitions"]:
        services = {k: v for k, v in partition["services"].items() if k in prefixes}
        partitions.append({**partition, "services": services})
    return {**endpoints, "partitions": partitions}


def _dump(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")


def write(out: Path) -> list[Path]:
    """Write the data directory into `out` (emptied first); the files written."""
    loader = Loader()  # botocore's own data only (no AWS_DATA_PATH, no ~/.aws/models)
    loader.search_paths[:] = [loader.BUILTIN_DATA_PATH]
    if out.exists():
        for old in sorted(out.rglob("*"), reverse=True):
            old.rmdir() if old.is_dir() else old.unlink()
    written: list[Path] = []
    prefixes: set[str] = set()
    for service, operations in OPERATIONS.items():
        version = loader.determine_latest_version(service, "service-2")
        model = loader.load_service_model(service, "service-2", version)  # with its sdk-extras
        prefixes.add(model["metadata"]["endpointPrefix"])
        rules = loader.load_service_model(service, "endpoint-rule-set-1", version)
        for name, document in (
            ("service-2", trimmed_model(model, operations)),
            ("endpoint-rule-set-1", rules),
        ):
            written.append(out / service / version / f"{name}.json")
            _dump(written[-1], document)
    written.append(out / "endpoints.json")
    _dump(written[-1], trimmed_endpoints(loader.load_data("endpoints"), prefixes))
    for name in COPIED:
        written.append(out / f"{name}.json")
        _dump(written[-1], loader.load_data(name))
    import botocore

    written.append(out / "VERSION")  # kindred.aws.clients reads it: not under an older botocore
    written[-1].write_text(botocore.__version__ + "\n", encoding="ascii")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(f"{path.stat().st_size:>9,} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
