"""The template's Lambda functions, loaded in this process and invoked the way Lambda would."""

from __future__ import annotations

import importlib.util
import logging
import os
import queue
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.aws_resources import DEFAULT_REGION, Template

log = logging.getLogger("local.functions")

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
DEFAULT_TIMEOUT_SECONDS = 3  # Lambda's default
DEFAULT_MEMORY_MB = 128

# Told of every invocation: (function, event, what it returned or the FunctionError it raised).
Observer = Callable[[str, dict[str, Any], Any], None]


def nullcontext_of(_function: str) -> AbstractContextManager[Any]:
    """No role: the handler's calls carry the process's credentials."""
    return nullcontext()


class FunctionError(Exception):
    """A handler raised: `function` names it, `__cause__` is what it raised."""

    def __init__(self, function: str, error: BaseException) -> None:
        super().__init__(f"{function}: {type(error).__name__}: {error}")
        self.function = function
        self.error = error

    @property
    def summary(self) -> str:
        """One line: the exception's type and message."""
        text = " ".join(str(self.error).split())
        return f"{type(self.error).__name__}: {text}"[:300] if text else type(self.error).__name__


class EnvironmentMismatchError(RuntimeError):
    """Two functions need different values of a variable, which one process cannot give."""


def logical_id_of(value: Any) -> str | None:
    """The logical id a !Ref or !GetAtt names ({"Ref": "X"} or {"Fn::GetAtt": ["X", "Arn"]})."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            return arg
        if key == "Fn::GetAtt":
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                return arg[0]
            if isinstance(arg, str):
                return arg.split(".", 1)[0]
    return None


@dataclass
class LambdaContext:
    """What Lambda passes as `context` (the attributes Powertools and handlers read)."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float  # time.monotonic() when Lambda would stop the invocation
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    """One function of the template: where its code is and how Lambda would run it.

    Each concurrent invocation gets its own copy of the handler module, as each concurrent
    request gets its own Lambda instance: module-level state (a BatchProcessor, say) is never
    shared between two invocations running at once. Copies are kept warm and reused.
    """

    logical_id: str
    code_dir: Path
    handler: str  # "app.lambda_handler"
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB
    physical_name: str = ""
    region: str = DEFAULT_REGION
    account: str = "123456789012"
    observers: list[Observer] = field(default_factory=list)
    # Whose credentials the handler's AWS calls carry (local.iam): its execution role.
    run_as: Callable[[str], AbstractContextManager[Any]] = nullcontext_of
    _warm: queue.SimpleQueue[Callable[..., Any]] = field(default_factory=queue.SimpleQueue)
    _copies: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def arn(self) -> str:
        name = self.physical_name or self.logical_id
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def load(self) -> Callable[..., Any]:
        """Import a fresh copy of the handler module (a cold start); returns the handler."""
        module_path, _, attribute = self.handler.rpartition(".")
        if not module_path or not attribute:
            raise ValueError(f"{self.logical_id}: Handler {self.handler!r} is not module.function")
        source = self.code_dir / (module_path.replace(".", "/") + ".py")
        with self._lock:
            self._copies += 1
            name = f"_local_fn_{self.logical_id}_{self._copies}"
        spec = importlib.util.spec_from_file_location(name, source)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"{self.logical_id}: no handler module at {source}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise AttributeError(f"{self.logical_id}: {source} has no function {attribute}")
        return handler  # type: ignore[no-any-return]

    def warm_up(self) -> None:
        """Load one copy now, so import errors show at start-up and not on first use."""
        self._warm.put(self.load())

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler on `event`; what it raised comes back as FunctionError."""
        try:
            handler = self._warm.get_nowait()
        except queue.Empty:
            handler = self.load()
        started = time.monotonic()
        context = LambdaContext(
            function_name=self.physical_name or self.logical_id,
            memory_limit_in_mb=self.memory_mb,
            invoked_function_arn=self.arn,
            aws_request_id=str(uuid.uuid4()),
            deadline=started + self.timeout,
            log_group_name=f"/aws/lambda/{self.physical_name or self.logical_id}",
        )
        outcome: Any = None
        try:
            with self.run_as(self.logical_id):
                outcome = handler(event, context)
        except Exception as exc:
            outcome = FunctionError(self.logical_id, exc)
            raise outcome from exc
        finally:
            self._warm.put(handler)
            elapsed = time.monotonic() - started
            if elapsed > self.timeout:
                log.warning(
                    "%s ran %.1f s, past its %g s timeout (Lambda would have stopped it)",
                    self.logical_id,
                    elapsed,
                    self.timeout,
                )
            for observer in list(self.observers):
                observer(self.logical_id, event, outcome)
        return outcome


def report(error: FunctionError) -> None:
    """Print a handler's failure: the function, one line, then the traceback."""
    detail = "".join(traceback.format_exception(error.error)).rstrip()
    log.error("%s failed: %s\n%s", error.function, error.summary, detail)


def _function_property(
    template: Template, props: Mapping[str, Any], name: str, default: Any = None
) -> Any:
    if name in props:
        return props[name]
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    return globals_.get(name, default)


def load_functions(
    template: Template,
    template_dir: Path,
    *,
    region: str = DEFAULT_REGION,
    account: str = "123456789012",
    stack_name: str = "",
) -> dict[str, LocalFunction]:
    """Every function of the template, by logical id (not yet imported)."""
    functions: dict[str, LocalFunction] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") not in FUNCTION_TYPES:
            continue
        props = resource.get("Properties") or {}
        code_uri = _function_property(template, props, "CodeUri")
        handler = _function_property(template, props, "Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise ValueError(f"{logical_id}: the local stack needs a local CodeUri and a Handler")
        name = props.get("FunctionName")
        functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            code_dir=(template_dir / code_uri).resolve(),
            handler=handler,
            timeout=float(_function_property(template, props, "Timeout", DEFAULT_TIMEOUT_SECONDS)),
            memory_mb=int(_function_property(template, props, "MemorySize", DEFAULT_MEMORY_MB)),
            physical_name=name if isinstance(name, str) else f"{stack_name}-{logical_id}",
            region=region,
            account=account,
        )
    return functions


def layer_dirs(template: Template, template_dir: Path) -> list[Path]:
    """The local directories of the layers the functions use (their code is importable)."""
    dirs: list[Path] = []
    for resource in template["Resources"].values():
        if resource.get("Type") in LAYER_TYPES:
            content = (resource.get("Properties") or {}).get("ContentUri")
            if isinstance(content, str):
                dirs.append((template_dir / content).resolve())
    return dirs


def shared_environment(environments: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The one environment every function can run in; EnvironmentMismatchError if none.

    The functions run in one process, where os.environ is one: a function whose own
    Environment gives a variable another value than the others' cannot be run faithfully.
    """
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for function, environment in environments.items():
        for name, value in environment.items():
            if name in merged and merged[name] != value:
                raise EnvironmentMismatchError(
                    f"{function} sets {name}={value!r} but {owner[name]} has {merged[name]!r}: "
                    "the local stack runs every function in one process, with one environment"
                )
            merged[name] = value
            owner.setdefault(name, function)
    missing = [
        (function, name)
        for function, environment in environments.items()
        for name in merged
        if name not in environment
    ]
    if missing:
        function, name = missing[0]
        raise EnvironmentMismatchError(
            f"{function} lacks {name}, which {owner[name]} sets: the local stack runs every "
            "function in one process, with one environment"
        )
    return merged


@contextmanager
def patched_environ(values: Mapping[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """os.environ with `values` set and the names in `remove` (or their prefixes*) unset."""
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in remove):
                del os.environ[name]
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def fresh_packages(directories: list[Path]) -> Iterator[None]:
    """Import the packages in `directories` anew (a cold start), and put back what was there.

    A second stack in the same process must not reuse the first one's cached settings and
    clients; and code that imported those packages before keeps its own copies afterwards.
    """
    names = {
        child.name
        for directory in directories
        if directory.is_dir()
        for child in directory.iterdir()
        if (child.is_dir() and (child / "__init__.py").exists())
        or (child.suffix == ".py" and child.is_file())
    }
    names = {name.removesuffix(".py") for name in names}

    def ours(module: str) -> bool:
        return module.split(".", 1)[0] in names

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    added_paths = [str(d) for d in directories if str(d) not in sys.path]
    for name in saved:
        del sys.modules[name]
    sys.path[:0] = added_paths
    try:
        yield
    finally:
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        for path in added_paths:
            if path in sys.path:
                sys.path.remove(path)
