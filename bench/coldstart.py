"""Cold start: each function's import and init time in a fresh interpreter, beside boto3's.

    .venv/bin/python -m bench.coldstart [--repeats 7] [--python PATH]

--python runs the probes under another interpreter, with its own environment's packages: Lambda
runs python3.13, and `make bench-coldstart PYTHON313=...` runs them under a python3.13 venv with
the layer's pinned requirements and the baseline's boto3 (.venv-313).

For every function of template.yaml, a fresh `python` process (the layer on sys.path, the
function's environment as template.yaml resolves it, dummy AWS credentials) times:
  import  - exec of functions/<name>/app.py, which imports what the handler needs (Lambda's INIT)
  init    - what the first invocation builds before its first network call: the settings, and
            `services()` (the boto3 clients and adapters) or the authorizer's key cache
No network call is made. The baseline is the same measure of `import boto3` plus one
DynamoDB client. Each figure is the median of --repeats runs (the machine is shared: the
minimum is printed too). One more run per function under `python -X importtime` names the
packages that take the time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import (
    DUMMY_AWS,
    RESULTS,
    ROOT,
    InProcessStack,
    bullets,
    markdown_table,
    median,
    write_results,
)

LAYER = ROOT / "layers" / "core"

# The start and the end of every probe: it runs in a fresh interpreter and prints one JSON line.
_PROBE_START = r"""
import json, resource, sys, time

def peak_mb():
    # VmHWM is this process's own peak (ru_maxrss keeps the forking parent's across exec)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_PROBE_END = r"""
ready, ready_cpu = time.perf_counter(), time.process_time()
print(json.dumps({
    "import_ms": (imported - started) * 1000,
    "init_ms": (ready - imported) * 1000,
    "cpu_import_ms": (imported_cpu - started_cpu) * 1000,
    "cpu_ms": (ready_cpu - started_cpu) * 1000,
    "modules": len(sys.modules),
    "max_rss_mb": peak_mb(),
    "clients_ms": clients,
}))
"""


def _probe(body: str) -> str:
    return _PROBE_START + body + _PROBE_END


# What each function's first request builds before its first network call, beyond its
# import: the clients its commonest request calls (built on first use since issue 14;
# tests/integration/test_cold_clients.py checks on moto that the request builds exactly
# these) and, for a client frame, its action's model (validators are built on first parse).
FIRST_REQUESTS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "AdminFunction": (
        "`accounts` list",
        ("dynamodb", "cognito-idp", "apigatewaymanagementapi"),
        '{"action": "accounts", "op": "list"}',
    ),
    "AuthorizerFunction": ("a seeker's handshake", (), None),
    "ChatFunction": (
        "`message` in a chat",
        ("dynamodb", "apigatewaymanagementapi"),
        '{"action": "message", "text": "hello", "sessionId": "s-1", "seq": 1}',
    ),
    "ConnectFunction": ("a seeker's `$connect`", ("dynamodb", "ssm"), None),
    "DisconnectFunction": ("an idle connection's `$disconnect`", ("dynamodb",), None),
    "MatchFunction": (
        "a seeker's `match` with an intro",
        ("dynamodb", "sqs", "apigatewaymanagementapi", "ssm"),
        '{"action": "match", "topics": ["anxiety"], "intro": "hi"}',
    ),
    "MatcherFunction": (
        "a pass that starts a chat",
        ("dynamodb", "apigatewaymanagementapi", "ssm"),
        None,
    ),
    "SweeperFunction": ("a run with nothing to repair", ("dynamodb",), None),
}
# Run at deploy only (the SealingKey custom resource), never on a request: not timed.
DEPLOY_ONLY = frozenset({"SealingKeyFunction"})

# The API Gateway event each function's first request comes in, read by kindred.events
# (`<kind>_request`) before anything else: its validator is built on the first event.
EVENT_KIND = {
    "AdminFunction": "message",
    "ChatFunction": "message",
    "MatchFunction": "message",
    "ConnectFunction": "connect",
    "DisconnectFunction": "disconnect",
}


def sample_event(kind: str) -> str:
    """A WebSocket event of `kind` as API Gateway sends it (JSON), for kindred.events."""
    context = {
        "extendedRequestId": "x",
        "requestTime": "07/Dec/2026:03:00:00 +0000",
        "stage": "prod",
        "connectedAt": 1796612400000,
        "requestTimeEpoch": 1796612400000,
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
        "requestId": "r-1",
        "domainName": "example.execute-api.us-east-1.amazonaws.com",
        "connectionId": "c-1",
        "apiId": "example",
        "messageDirection": "IN",
    }
    headers = {"Origin": "https://example.org"}
    event: dict[str, Any] = {"isBase64Encoded": False}
    if kind == "message":
        context |= {"routeKey": "message", "eventType": "MESSAGE", "messageId": "m-1"}
        event |= {"body": '{"action": "ping"}'}
    elif kind == "connect":
        context |= {"routeKey": "$connect", "eventType": "CONNECT"}
        context["authorizer"] = {"role": "seeker", "userId": "", "alias": ""}
        event |= {"headers": headers, "multiValueHeaders": {"Origin": [headers["Origin"]]}}
    else:
        context |= {"routeKey": "$disconnect", "eventType": "DISCONNECT"}
        context |= {"disconnectStatusCode": 1001, "disconnectReason": "Going away"}
        event |= {"headers": headers, "multiValueHeaders": {"Origin": [headers["Origin"]]}}
    return json.dumps(event | {"requestContext": context})


# A function's import and init (`layer`, `app`, `clients`, `event` and `frame` filled in with
# str.format).
_FUNCTION = r"""
started, started_cpu = time.perf_counter(), time.process_time()
sys.path.insert(0, {layer!r})
import importlib.util
spec = importlib.util.spec_from_file_location("app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported, imported_cpu = time.perf_counter(), time.process_time()
clients = {{}}
from kindred.config import settings
config = settings()
names = vars(module)
if "services" in names or "frame_handler" in names:
    # The first request's Services, and the clients it calls, each timed.
    from kindred.aws.wiring import process_clients, services
    services()
    built = process_clients()
    for service in {clients!r}:
        t = time.perf_counter()
        built[service].get()
        clients[service] = round((time.perf_counter() - t) * 1000, 2)
if {event!r} is not None:
    import kindred.events
    kind, sample = {event!r}
    getattr(kindred.events, kind + "_request")(json.loads(sample))
if {frame!r} is not None:
    from kindred.protocol import parse_action
    parse_action({frame!r})
if "auth" in names:
    names["auth"].cached_jwks(config.jwks_url)
"""

# The baseline: boto3 and one client, none timed on its own.
_BASELINE = r"""
clients = {}
started, started_cpu = time.perf_counter(), time.process_time()
import boto3
imported, imported_cpu = time.perf_counter(), time.process_time()
boto3.session.Session(region_name="us-east-1").client("dynamodb")
"""


def function_probe(name: str, app: Path, layer: Path = LAYER) -> str:
    """The probe of function `name` (its app.py at `app`, kindred from `layer`): import, then
    its first request."""
    _request, clients, frame = FIRST_REQUESTS[name]
    kind = EVENT_KIND.get(name)
    event = (kind, sample_event(kind)) if kind else None
    return _probe(
        _FUNCTION.format(layer=str(layer), app=str(app), clients=clients, event=event, frame=frame)
    )


def _millions(count: int | None, empty: int | None) -> str:
    return f"{(count - (empty or 0)) / 1e6:.0f}" if count is not None else "-"


def compiled_layer(into: Path, python: str = sys.executable) -> Path:
    """A copy of the layer's kindred package with its bytecode, as `sam build` ships it
    (layers/core/Makefile: unchecked-hash .pyc files), compiled by the probes' Python."""
    shutil.copytree(LAYER / "kindred", into / "kindred", ignore=shutil.ignore_patterns("*.pyc"))
    compiled = subprocess.run(
        [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(into)],
        capture_output=True,
        text=True,
        check=False,
    )
    if compiled.returncode != 0:
        raise RuntimeError(f"kindred did not compile in {into}:\n{compiled.stdout[-2000:]}")
    return into


# The probe's scaffolding alone (interpreter start-up, its own imports, the JSON line): what
# an instruction count subtracts, since it cannot bracket the timed span as the clocks do.
_EMPTY = r"""
clients = {}
started, started_cpu = time.perf_counter(), time.process_time()
imported, imported_cpu = started, started_cpu
"""


_CACHEGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def instructions(code: str, env: dict[str, str], python: str = sys.executable) -> int | None:
    """The instructions one run of `code` executes, counted by valgrind's cachegrind (None
    without valgrind): unlike time, the same from run to run whatever else the machine does.
    The hash seed is fixed, so that dicts and sets grow the same way each run."""
    if shutil.which("valgrind") is None:
        return None
    done = subprocess.run(
        [*_CACHEGRIND, python, "-c", code],
        env={**env, "PYTHONHASHSEED": "0"},
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    counted = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or counted is None:
        raise RuntimeError(f"the probe failed under valgrind:\n{done.stderr[-2000:]}")
    return int(counted.group(1).replace(",", ""))


def _env(function_env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    base.pop("PYTHONPATH", None)
    return {**base, **function_env, **DUMMY_AWS, "PYTHONDONTWRITEBYTECODE": "1"}


def _run(
    code: str, env: dict[str, str], python: str, *, importtime: bool = False
) -> tuple[dict[str, Any], str]:
    args = [python, *(["-X", "importtime"] if importtime else []), "-c", code]
    done = subprocess.run(
        args, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the probe failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def heaviest(importtime_stderr: str, top: int = 8) -> list[tuple[str, float]]:
    """Self import time (ms) by top-level package, from `python -X importtime` output."""
    by_package: dict[str, float] = defaultdict(float)
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_us, _cumulative, name = line.split(":", 1)[1].split("|")
        except ValueError:
            continue
        name = name.strip()
        package = name.split(".")[0]
        if package == "kindred":
            package = ".".join(name.split(".")[:2])  # kindred.protocol, kindred.auth ...
        by_package[package] += int(self_us.strip()) / 1000
    return sorted(by_package.items(), key=lambda kv: -kv[1])[:top]


def measure(
    code: str, env: dict[str, str], repeats: int, beside: str | None = None, *, python: str
) -> dict[str, Any]:
    """The figures of `code`; with `beside` (the baseline), each run alternates with one of
    it, so that both see the same load of the shared machine (`baseline_ms`: their median)."""
    runs, besides, besides_cpu = [], [], []
    for _ in range(repeats):
        runs.append(_run(code, env, python)[0])
        if beside is not None:
            done = _run(beside, env, python)[0]
            besides.append(done["import_ms"] + done["init_ms"])
            besides_cpu.append(done["cpu_ms"])
    totals = [r["import_ms"] + r["init_ms"] for r in runs]
    _, stderr = _run(code, env, python, importtime=True)
    last = runs[-1]
    return {
        "import_ms": round(median(r["import_ms"] for r in runs), 1),
        "init_ms": round(median(r["init_ms"] for r in runs), 1),
        "total_ms": round(median(totals), 1),
        "total_ms_min": round(min(totals), 1),
        "cpu_ms": round(median(r["cpu_ms"] for r in runs), 1),
        "cpu_import_ms": round(median(r["cpu_import_ms"] for r in runs), 1),
        "modules": last["modules"],
        "max_rss_mb": round(last["max_rss_mb"], 1),
        "clients_ms": last["clients_ms"],
        "heaviest_ms": [(name, round(ms, 1)) for name, ms in heaviest(stderr)],
        "baseline_ms": round(median(besides), 1) if besides else None,
        "baseline_cpu_ms": round(median(besides_cpu), 1) if besides_cpu else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--python", default=sys.executable, help="the probes' interpreter")
    args = parser.parse_args(argv)
    python = args.python
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    started = time.monotonic()
    with InProcessStack() as stack:
        functions = {
            name: (fn.code_dir / (fn.handler.rpartition(".")[0].replace(".", "/") + ".py"))
            for name, fn in stack.functions.items()
            if name not in DEPLOY_ONLY
        }
        environment = dict(stack.environment)

    env = _env(environment)
    layer = compiled_layer(Path(tempfile.mkdtemp(prefix="kindred-layer-")), python)
    load_before = os.getloadavg()
    baseline = measure(_probe(_BASELINE), env, args.repeats, python=python)
    empty = instructions(_probe(_EMPTY), env, python)
    baseline["instructions"] = instructions(_probe(_BASELINE), env, python)
    print(
        f"baseline (import boto3 + one DynamoDB client): {baseline['total_ms']:.0f} ms "
        f"(min {baseline['total_ms_min']:.0f})",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    for name, app in sorted(functions.items()):
        code = function_probe(name, app, layer)
        figures = measure(code, env, args.repeats, beside=_probe(_BASELINE), python=python)
        figures["ratio_to_baseline"] = round(figures["total_ms"] / figures["baseline_ms"], 2)
        figures["cpu_ratio_to_baseline"] = round(figures["cpu_ms"] / figures["baseline_cpu_ms"], 2)
        figures["instructions"] = counted = instructions(code, env, python)
        figures["instructions_ratio"] = (
            round((counted - empty) / (baseline["instructions"] - empty), 2)
            if counted is not None and empty is not None and baseline["instructions"]
            else None
        )
        results[name] = figures
        print(
            f"{name}: import {figures['import_ms']:.0f} ms + init {figures['init_ms']:.0f} ms "
            f"= {figures['total_ms']:.0f} ms ({figures['ratio_to_baseline']:.2f}x baseline); "
            f"CPU {figures['cpu_ms']:.0f} ms ({figures['cpu_ratio_to_baseline']:.2f}x); "
            f"instructions {figures['instructions_ratio']}x",
            flush=True,
        )
    shutil.rmtree(layer, ignore_errors=True)
    elapsed = time.monotonic() - started
    load = (*load_before, *os.getloadavg())

    rows = [
        (
            "baseline: `import boto3` + 1 client",
            f"{baseline['import_ms']:.0f}",
            f"{baseline['init_ms']:.0f}",
            f"{baseline['total_ms']:.0f} (min {baseline['total_ms_min']:.0f})",
            "1.00x",
            f"{baseline['cpu_ms']:.0f}",
            "1.00x",
            _millions(baseline["instructions"], empty),
            "1.00x",
            baseline["modules"],
            f"{baseline['max_rss_mb']:.0f}",
            ", ".join(f"{n} {ms:.0f}" for n, ms in baseline["heaviest_ms"][:5]),
        )
    ] + [
        (
            name,
            f"{f['import_ms']:.0f}",
            f"{f['init_ms']:.0f}"
            + (
                " (" + ", ".join(f"{c} {ms:.0f}" for c, ms in f["clients_ms"].items()) + ")"
                if f["clients_ms"]
                else ""
            ),
            f"{f['total_ms']:.0f} (min {f['total_ms_min']:.0f})",
            f"{f['ratio_to_baseline']:.2f}x (of {f['baseline_ms']:.0f})",
            f"{f['cpu_ms']:.0f}",
            f"**{f['cpu_ratio_to_baseline']:.2f}x** (of {f['baseline_cpu_ms']:.0f})",
            _millions(f["instructions"], empty),
            f"**{f['instructions_ratio']:.2f}x**" if f["instructions_ratio"] else "-",
            f["modules"],
            f"{f['max_rss_mb']:.0f}",
            ", ".join(f"{n} {ms:.0f}" for n, ms in f["heaviest_ms"][:8]),
        )
        for name, f in results.items()
    ]
    table = markdown_table(
        [
            "function",
            "import ms",
            "init ms (clients built)",
            "total ms, median",
            "vs baseline",
            "CPU ms, median",
            "CPU vs baseline",
            "instructions, millions",
            "instructions vs baseline",
            "modules",
            "max RSS MB",
            "heaviest imports (self ms)",
        ],
        rows,
    )
    notes = [
        "vs baseline: the row's median over the median of as many baseline runs, each run "
        "alternating with one of the row's (both see the same load of the shared machine).",
        "Instructions: one run of the same probe under valgrind's cachegrind, PYTHONHASHSEED=0, "
        "less the probe's scaffolding alone (interpreter start-up included: "
        f"{_millions(empty, 0)} million); the same from run to run, where times on this shared "
        "machine move by tens of percent. It weighs every instruction alike (not cache misses, "
        "page faults or system calls): a proxy for the CPU time of a CPU-bound cold start.",
        "CPU: the same span's process CPU time (time.process_time), which the other sessions "
        "of a shared machine barely move: a cold start is CPU-bound (no network here, the "
        "files in the page cache), so its CPU ratio is the wall ratio of a quiet machine. "
        f"Load average (1, 5, 15 min) {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the "
        f"start, {load[3]:.2f} {load[4]:.2f} {load[5]:.2f} at the end, on "
        f"{os.cpu_count()} cores.",
        f"Median of {args.repeats} fresh interpreters per row (min in brackets); Python "
        f"{version} on this x86-64 machine (Lambda: python3.13 on Graviton): read the "
        "ratios, not the absolute times.",
        "import: exec of the function's app.py with the layer on sys.path (Lambda's INIT). "
        "init: what the function's commonest first request builds before its first network "
        "call: settings(), services() and the clients that request calls (FIRST_REQUESTS, "
        "checked on moto by tests/integration/test_cold_clients.py; clients are built on "
        "first use since issue 14), the parse of its API Gateway event (kindred.events) and "
        "of its frame (each validator is built on its first parse); for the authorizer, its "
        "JWKS cache object. No network call (the JWKS and the sealing key are fetched on "
        "first use, not counted), nor what a route imports on its first use after that "
        "call: the crisis detector and the contact-details patterns (the first text read), "
        "cryptography (the first seal or unseal), a rare route's module (the chat "
        "function's `match`, `transfer`, `resources`, `referral`, `feedback`, `block`, "
        "`forget`, `remember`); the match function imports kindred.matching with its app.",
        "Bytecode as in Lambda: the layer ships python3.13 bytecode of every module, its "
        "dependencies' and kindred's (layers/core/Makefile; unchecked-hash .pyc files, since "
        "/opt is read-only and zip's file times are coarse), so the probes run kindred from a "
        "copy compiled the same way for this Python, and pydantic, Powertools and botocore "
        "from the probes' environment's bytecode, as the baseline runs boto3. "
        "SealingKeyFunction runs at deploy only: not timed.",
        "Interpreter start-up is not included (it is the same for all, and Lambda's runtime "
        "has its own). Heaviest imports: self time summed by top-level package from "
        "`python -X importtime` (kindred's modules by module).",
        "Since 2025-08-01 Lambda bills the INIT phase: a cold start costs its import time "
        "at the function's memory size.",
    ]
    print()
    print(table)
    print()
    print(bullets(notes))
    print(f"\nRan in {elapsed:.0f} s.")
    path = write_results(
        "coldstart",
        {
            "baseline": baseline,
            "functions": results,
            "repeats": args.repeats,
            "python": version,
            "load_average": load,
            "elapsed_seconds": round(elapsed, 1),
            "notes": notes,
        },
        table + "\n\n" + bullets(notes) + "\n",
    )
    print(f"written: {path.relative_to(RESULTS.parent.parent)} and coldstart.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
