"""The whole local stack: moto, the template's resources and functions, gateway, poller, web."""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3

from local.aws_resources import (
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    DUMMY_CREDENTIALS,
    create_resources,
    function_environment,
    load_template,
    parameter_values,
)
from local.connections_api import ConnectionsApiServer
from local.demo_accounts import (
    DEMO_PASSWORD,
    create_demo_accounts,
    give_id_tokens_every_attribute,
    sign_in,
)
from local.functions import (
    LocalFunction,
    fresh_packages,
    layer_dirs,
    load_functions,
    patched_environ,
    shared_environment,
)
from local.gateway import GatewayLimits, Routes, WebSocketGateway
from local.iam import LocalIam, suspended
from local.motoserver import MotoServer
from local.outbox import Invitation, LocalOutbox
from local.poller import SqsPoller, sqs_sources
from local.scheduler import Scheduler, schedules
from local.static import StaticServer, site_config
from local.ws_events import Api

log = logging.getLogger("local.stack")
T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
LOCAL_API_ID = "localwsapi"  # ten characters, like an API Gateway id
# Template parameters the local stack runs with unless told otherwise. VolunteerMfa OPTIONAL:
# the demo accounts have no MFA, so scripts sign them in with USER_PASSWORD_AUTH and no
# challenge (docs/protocol.md, "The local stack"); `--parameter VolunteerMfa=ON` runs as deployed.
# MaxConnectionsPerSourcePerMinute 0: every local client (the browser, the tests) comes from one
# address, so the per-source connection budget is off.
LOCAL_PARAMETERS: dict[str, str] = {
    "VolunteerMfa": "OPTIONAL",
    "MaxConnectionsPerSourcePerMinute": "0",
}
# Where moto and the @connections API listen whatever --host says: only this process's
# handlers (and a browser on this machine, for Cognito) talk to them, and the authorizer
# fetches keys over plain http from loopback only.
LOOPBACK = "127.0.0.1"
# What the functions must never inherit from the developer's shell: real credentials, a
# profile, or endpoints that would send the local stack's calls somewhere else.
_SHELL_AWS = ("AWS_*",)


class PortInUseError(OSError):
    """A port the stack was asked to listen on is taken; `role` says which one."""

    def __init__(self, role: str, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} is in use")
        self.role = role
        self.host = host
        self.port = port


@dataclass(frozen=True)
class Ports:
    """Where the stack listens; 0 picks a free port."""

    web: int = 8080
    ws: int = 8081
    aws: int = 8082
    connections: int = 8083


def _bound(role: str, host: str, port: int, factory: Callable[[tuple[str, int]], T]) -> T:
    try:
        return factory((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(role, host, port) from None
        raise


def _listen(role: str, host: str, port: int) -> socket.socket:
    return _bound(role, host, port, socket.create_server)


def _started(part: T | None) -> T:
    """A server the stack runs, once it has started."""
    assert part is not None, "the stack is not started"
    return part


def _shut_down(executor: ThreadPoolExecutor, timeout: float = 2) -> None:
    """Cancel what has not started; give running handlers `timeout` seconds to finish."""
    executor.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + timeout
    for thread in list(executor._threads):
        thread.join(max(0, deadline - time.monotonic()))


def _free_to_bind(role: str, host: str, port: int) -> None:
    """Fail early, before anything starts, if a fixed port is taken."""
    if port:
        _listen(role, host, port).close()


class LocalStack:
    """Start with start() (or `with`), read the URLs, stop with stop().

    Handlers run in this process, with the template's environment set in os.environ for
    as long as the stack runs (and restored by stop()), and fresh imports of the layer's
    packages (a cold start): run one LocalStack at a time per process.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        ports: Ports | None = None,
        template: Path = ROOT / "template.yaml",
        web_root: Path = ROOT / "web",
        site: Path = ROOT / "web" / "site.json",
        parameters: Mapping[str, str] | None = None,
        limits: GatewayLimits | None = None,
        region: str = DEFAULT_REGION,
        stack_name: str = DEFAULT_STACK_NAME,
        workers: int = 8,
        poll_interval: float = 0.2,
        schedule_time_scale: float = 1.0,
        on_invitation: Callable[[Invitation], None] | None = None,
    ) -> None:
        self.host = host
        self.ports = ports or Ports()
        self.template_path = template.resolve()
        self.web_root = web_root
        self.site_path = site
        self.region = region
        self.stack_name = stack_name
        self._parameters = {**LOCAL_PARAMETERS, **(parameters or {})}
        self._limits = limits or GatewayLimits()
        self._workers = workers
        self._poll_interval = poll_interval
        self._schedule_time_scale = schedule_time_scale
        self._exit = ExitStack()
        self.resources: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self.functions: dict[str, LocalFunction] = {}
        self.moto: MotoServer | None = None
        self.gateway: WebSocketGateway | None = None
        self.connections_api: ConnectionsApiServer | None = None
        self.web: StaticServer | None = None
        self.pollers: list[SqsPoller] = []
        self.scheduler: Scheduler | None = None
        self.session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
        self.iam: LocalIam | None = None
        self._ws_port = 0
        # The invitations Cognito would e-mail (local only: moto sends none; local.outbox).
        self.outbox = LocalOutbox(on_invitation)

    # ------------------------------------------------------------ what a client needs

    @property
    def web_origin(self) -> str:
        return _started(self.web).origin

    @property
    def web_url(self) -> str:
        return _started(self.web).url

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self._ws_port}/{self.stage}"

    @property
    def aws_endpoint(self) -> str:
        return _started(self.moto).endpoint

    @property
    def connections_endpoint(self) -> str:
        return _started(self.connections_api).endpoint

    @property
    def stage(self) -> str:
        return self.gateway.api.stage if self.gateway is not None else ""

    def config(self) -> dict[str, Any]:
        """config.json, per PROTOCOL.md: the WebSocket URL, topics, languages, Cognito; and
        per docs/protocol.md the canned replies, the default country, the crisis and referral
        directories and the hours."""
        return {
            "websocketUrl": self.ws_url,
            **site_config(self.site_path),
            "cognito": {
                "region": self.region,
                "userPoolId": self.environment.get("COGNITO_USER_POOL_ID", ""),
                "clientId": self.environment.get("COGNITO_CLIENT_ID", ""),
                "endpoint": self.aws_endpoint,
            },
            **self._page_config(),
        }

    def _page_config(self) -> dict[str, Any]:
        # The layer's code is importable while the stack runs (local.functions puts it on
        # sys.path), not when this module is imported.
        from kindred.page_config import page_config

        return page_config(
            self.environment.get("DEFAULT_COUNTRY", ""),
            self.environment.get("OPENING_HOURS", ""),
            self.environment.get("RETURN_KEY_DAYS", ""),
            self._limits.max_seconds,
        )

    def client(self, service: str) -> Any:
        """A boto3 client of the local AWS (moto)."""
        return self.session.client(service, endpoint_url=self.aws_endpoint)

    def id_token(self, username: str, password: str = DEMO_PASSWORD) -> str:
        """A Cognito ID token, got as the web console gets it (InitiateAuth by plain HTTP)."""
        cognito = self.config()["cognito"]
        return str(sign_in(cognito["endpoint"], cognito["clientId"], username, password)["IdToken"])

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        template = load_template(self.template_path)
        self._exit.enter_context(self.outbox.delivering())
        ws_socket = self._bind_servers()
        parameters = self._parameters_in_use(template)
        # The set-up is no function's: unenforced, even while another stack enforces IAM.
        set_up = ExitStack()
        set_up.enter_context(suspended())
        try:
            iam = self._set_up(template, parameters)
        finally:
            set_up.close()
        self._exit.enter_context(iam.enforced())
        self._start_serving(template, parameters, ws_socket)

    def _set_up(self, template: dict[str, Any], parameters: dict[str, str]) -> LocalIam:
        """The template's resources, roles, functions, environment and demo accounts."""
        self.resources = create_resources(
            self.template_path,
            self.session,
            self.aws_endpoint,
            region=self.region,
            stack_name=self.stack_name,
            parameters=parameters,
        )
        account = self.resources.get("AWS::AccountId", "123456789012")
        # Each function's role, and an administrator for everything that is not a function
        # (this stack's own set-up, the tests, the tools); enforced once the set-up is done.
        self.iam = iam = LocalIam.from_template(
            self.template_path,
            self.resources,
            api_id=LOCAL_API_ID,
            region=self.region,
            endpoint_url=self.aws_endpoint,
            parameters=parameters,
        ).create(self.session)
        self.session = iam.admin_session()
        routes = Routes.from_template(template, parameter_values(template, parameters))
        self.connections_api = _bound(
            "connections",
            LOOPBACK,
            self.ports.connections,
            lambda a: ConnectionsApiServer(
                a,
                _LateConnections(self),
                routes.stage,
                api_arn=f"arn:aws:execute-api:{self.region}:{account}:{LOCAL_API_ID}",
                authorize=iam.connections_denial,
            ),
        )
        self.functions = load_functions(
            template,
            self.template_path.parent,
            region=self.region,
            account=account,
            stack_name=self.stack_name,
        )
        for function in self.functions.values():
            function.run_as = iam.acting_as
        self.environment = self._environment(parameters)
        self._set_up_cognito()
        return iam

    def _start_serving(
        self, template: dict[str, Any], parameters: dict[str, str], ws_socket: socket.socket
    ) -> None:
        """The handlers warm, then the gateway, the @connections API, the web, the sources."""
        account = self.resources.get("AWS::AccountId", "123456789012")
        routes = Routes.from_template(template, parameter_values(template, parameters))
        api = Api(api_id=LOCAL_API_ID, stage=routes.stage, region=self.region, account=account)
        assert self.connections_api is not None
        self._exit.enter_context(patched_environ(self.environment, remove=_SHELL_AWS))
        self._exit.enter_context(fresh_packages(layer_dirs(template, self.template_path.parent)))
        # Stopping undoes these in reverse: the event sources, the web, the gateway (no new
        # frame), the handlers still running (they may still post to @connections), then
        # @connections, then the environment (no handler runs without it).
        self.connections_api.start()
        self._exit.callback(self.connections_api.stop)
        executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="lambda")
        self._exit.callback(_shut_down, executor)
        for function in self.functions.values():
            function.warm_up()  # an import error shows now, not at the first frame

        self.gateway = WebSocketGateway(api, routes, self.functions, executor, self._limits)
        self.gateway.start(ws_socket)
        self._exit.callback(self.gateway.stop)
        assert self.web is not None
        self.web.start()
        self._exit.callback(self.web.stop)
        self._start_event_sources(template, account)

    def _bind_servers(self) -> socket.socket:
        """Start moto, bind the WebSocket and web ports; returns the WebSocket's socket."""
        host, ports = self.host, self.ports
        # Every fixed port first, so that a taken one is reported before anything starts.
        for role, address, port in (
            ("web", host, ports.web),
            ("ws", host, ports.ws),
            ("aws", LOOPBACK, ports.aws),
            ("connections", LOOPBACK, ports.connections),
        ):
            _free_to_bind(role, address, port)
        try:
            self.moto = MotoServer(LOOPBACK, ports.aws).start()
        except SystemExit:  # werkzeug exits when it cannot bind
            raise PortInUseError("aws", host, ports.aws) from None
        self._exit.callback(self.moto.stop)
        ws_socket = _listen("ws", host, ports.ws)
        self._exit.callback(ws_socket.close)
        self._ws_port = ws_socket.getsockname()[1]
        self.web = _bound(
            "web",
            host,
            ports.web,
            lambda a: StaticServer(a, self.web_root, self.config, self.outbox.sent),
        )
        return ws_socket

    def _parameters_in_use(self, template: dict[str, Any]) -> dict[str, str]:
        """The given parameters, AllowedOrigins extended with the origin of the served page."""
        assert self.web is not None
        origins = list(parameter_values(template, self._parameters).get("AllowedOrigins") or [])
        port = self.web.server_address[1]
        for origin in (f"http://{self.host}:{port}", f"http://localhost:{port}"):
            if origin not in origins:
                origins.append(origin)
        return {**LOCAL_PARAMETERS, **self._parameters, "AllowedOrigins": ",".join(origins)}

    def _environment(self, parameters: Mapping[str, str]) -> dict[str, str]:
        """The one environment of every function: the template's, plus the local endpoints."""
        environments = {
            function_id: function_environment(
                self.template_path,
                self.resources,
                self.connections_endpoint,
                function_id,
                parameters=parameters,
            )
            for function_id in self.functions
        }
        environment = {
            **shared_environment(environments),
            # Local only, and all through variables the code reads anyway: boto3 sends every
            # call to moto, the authorizer fetches the pool's keys from moto.
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            # The administrator: whoever is not a function (tools, tests); each function's
            # own calls carry its role's credentials (local.iam).
            **_started(self.iam).admin_environment(),
            # moto's own setting: check TOTP codes (against the fixed secret moto hands out in
            # AssociateSoftwareToken), so a wrong code is refused here as in Cognito.
            "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
        }
        pool = environment.get("COGNITO_USER_POOL_ID")
        if pool:
            environment["COGNITO_JWKS_URL"] = f"{self.aws_endpoint}/{pool}/.well-known/jwks.json"
        return environment

    def _set_up_cognito(self) -> None:
        """The demo accounts, and ID tokens that carry the attributes Cognito's would."""
        pool = self.environment.get("COGNITO_USER_POOL_ID")
        client = self.environment.get("COGNITO_CLIENT_ID")
        if not pool:
            return
        cognito = self.client("cognito-idp")
        if client:
            give_id_tokens_every_attribute(cognito, pool, client)
        create_demo_accounts(cognito, pool)

    def _start_event_sources(self, template: dict[str, Any], account: str) -> None:
        """A poller per SQS event source, and the scheduled functions."""
        for source in sqs_sources(template, self.resources):
            if not source.enabled:
                continue
            # Lambda's event source polls with the function's execution role.
            role = _started(self.iam).session(source.function)
            sqs = role.client("sqs", endpoint_url=self.aws_endpoint)
            poller = SqsPoller(
                source,
                sqs,
                self.functions[source.function].invoke,
                region=self.region,
                idle_wait=self._poll_interval,
            ).start()
            self.pollers.append(poller)
            self._exit.callback(poller.stop)
        self.scheduler = Scheduler(
            schedules(template),
            lambda function, event: self.functions[function].invoke(event),
            region=self.region,
            account=account,
            time_scale=self._schedule_time_scale,
        ).start()
        self._exit.callback(self.scheduler.stop)

    def stop(self) -> None:
        """Stop everything (in the reverse order of start) and restore os.environ."""
        self._exit.close()
        if self.web is not None and self.web.socket.fileno() != -1:
            self.web.server_close()
        if self.connections_api is not None and self.connections_api.socket.fileno() != -1:
            self.connections_api.server_close()


class _LateConnections:
    """The gateway, for the @connections server created before it (its endpoint is needed
    first, in the functions' environment)."""

    def __init__(self, stack: LocalStack) -> None:
        self._stack = stack

    def _gateway(self) -> WebSocketGateway:
        from local.gateway import GoneError

        if self._stack.gateway is None:
            raise GoneError("the gateway is not running")
        return self._stack.gateway

    def post(self, connection_id: str, data: bytes) -> None:
        self._gateway().post(connection_id, data)

    def get(self, connection_id: str) -> dict[str, Any]:
        return self._gateway().get(connection_id)

    def delete(self, connection_id: str) -> None:
        self._gateway().delete(connection_id)
