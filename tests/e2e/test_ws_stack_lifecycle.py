"""Starting and stopping the local stack: in-process (twice, cold each time) and from the CLI."""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

import local.stack
from local.connections_api import ConnectionsApiServer
from local.gateway import WebSocketGateway
from local.stack import LocalStack, Ports

ROOT = Path(__file__).resolve().parents[2]
FREE = Ports(web=0, ws=0, aws=0, connections=0)
WAIT = 10


def ping(stack: LocalStack) -> dict[str, object]:
    with connect(stack.ws_url, origin=stack.web_origin, open_timeout=WAIT) as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"action": "ping"}))
        answer: dict[str, object] = json.loads(ws.recv(timeout=WAIT))
    return answer


def volunteer_status(stack: LocalStack) -> dict[str, object]:
    token = stack.id_token("volunteer@example.org")
    url = f"{stack.ws_url}?token={token}"
    with connect(url, origin=stack.web_origin, open_timeout=WAIT) as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"action": "availability", "available": False}))
        answer: dict[str, object] = json.loads(ws.recv(timeout=WAIT))
    return answer


def test_a_second_stack_in_the_same_process_starts_cold_and_the_first_leaves_nothing() -> None:
    """
    Given a process that imported the kindred package before (as the other tests do)
    When a local stack starts, serves, stops, and a second one starts on other ports
    Then each runs on fresh imports with its own settings (the second reaches its own moto,
    not the first one's), and after each stops os.environ and the imports are as before
    """
    import kindred.config

    environ_before = dict(os.environ)
    first = LocalStack(ports=FREE).start()
    try:
        answer_first = ping(first)
        fresh_in_first = sys.modules["kindred.config"] is not kindred.config
    finally:
        first.stop()
    environ_between = dict(os.environ)
    second = LocalStack(ports=FREE).start()
    try:
        status_second = volunteer_status(second)
    finally:
        second.stop()

    assert answer_first == {"type": "pong"}
    assert fresh_in_first
    assert status_second["type"] == "status"
    assert environ_between == environ_before == dict(os.environ)
    assert sys.modules["kindred.config"] is kindred.config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "local.run", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_port_in_use_is_one_clear_line_and_exit_code_2() -> None:
    """
    Given something already listening on the port asked for the web page
    When `python -m local.run --port <that port>` starts
    Then it prints one line naming the port and another to try, and exits with 2
    """
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = run_cli(
            "--port", str(port), "--ws-port", "0", "--aws-port", "0", "--connections-port", "0"
        )
        _, stderr = process.communicate(timeout=60)

    assert process.returncode == 2
    assert re.fullmatch(rf"port {port} is in use; try --port \d+\n", stderr), stderr


def test_ctrl_c_stops_the_stack_cleanly_within_seconds() -> None:
    """
    Given `python -m local.run` serving (its banner printed, config.json answered)
    When it gets SIGINT, as from Ctrl-C
    Then it stops everything and exits 0 within a few seconds, with no traceback
    """
    process = run_cli(
        "--port", str(free_port()), "--ws-port", "0", "--aws-port", "0", "--connections-port", "0"
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True
    )
    reader.start()
    banner: list[str] = []
    try:
        while not banner or "Press Ctrl-C" not in banner[-1]:
            banner.append(lines.get(timeout=60))
        web = next(line.split()[-1] for line in banner if line.strip().startswith("web page"))
        with urllib.request.urlopen(web + "config.json", timeout=WAIT) as response:
            config = json.loads(response.read())

        process.send_signal(signal.SIGINT)
        asked = time.monotonic()
        _, stderr = process.communicate(timeout=10)
        took = time.monotonic() - asked
    finally:
        if process.poll() is None:
            process.kill()

    assert config["websocketUrl"].startswith("ws://127.0.0.1:")
    assert any("volunteer@example.org" in line and "Kindred-Local-1" in line for line in banner)
    assert process.returncode == 0
    assert took < 5
    assert "Traceback" not in stderr


def test_two_servers_on_one_port_is_refused_before_anything_starts() -> None:
    """
    Given `make run ARGS="--port 8081"`, the WebSocket API's default port
    When the command line is read
    Then it says which two options collide and exits with 2, before binding anything
    """
    process = run_cli("--port", "8081")
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 2
    assert stderr.strip().endswith("--port and --ws-port are both 8081; give each its own port")


def test_stopping_lets_running_handlers_finish_before_connections_goes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """
    Given a stack serving a seeker who sent forty pings (handlers running when it stops)
    When the stack is stopped
    Then it stops the gateway (no new frame) first, then lets the running handlers finish,
    and only then stops the @connections API they post to: no handler's post meets a closed
    port (before, stopping `make run` just after a socket closed printed a traceback), and no
    error is logged
    """
    order: list[str] = []

    def recorded(name: str, stop: Any) -> Any:
        def stop_and_record(*args: Any, **kwargs: Any) -> Any:
            order.append(name)
            return stop(*args, **kwargs)

        return stop_and_record

    monkeypatch.setattr(local.stack, "_shut_down", recorded("handlers", local.stack._shut_down))
    monkeypatch.setattr(WebSocketGateway, "stop", recorded("gateway", WebSocketGateway.stop))
    monkeypatch.setattr(
        ConnectionsApiServer, "stop", recorded("connections", ConnectionsApiServer.stop)
    )
    stack = LocalStack(ports=FREE).start()
    try:
        ws = connect(stack.ws_url + "?lang=en", origin=stack.web_origin, open_timeout=WAIT)  # type: ignore[arg-type]
        for _ in range(40):
            ws.send(json.dumps({"action": "ping"}))
        ws.recv(timeout=WAIT)  # the first pong: the handlers are running
    finally:
        with caplog.at_level(logging.ERROR):
            stack.stop()

    assert order == ["gateway", "handlers", "connections"]
    assert [r.getMessage()[:300] for r in caplog.records if r.levelno >= logging.ERROR] == []
