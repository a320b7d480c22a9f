"""The whole backend on one machine: compose moto, the Lambda service, the gateway, the issuer,
the engines and the static web client behind one aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from components.shared import artifacts
from local.aws_state import LOCAL_CREDENTIALS, AwsState
from local.gateway import Gateway, GatewayLimits
from local.identity import LocalIssuer
from local.lambda_service import DEFAULT_RETRY_DELAYS, Destinations, LambdaService, extract_zip
from local.schedule import Scheduler
from local.stack import FunctionSpec, StackView
from local.transcribe_service import TranscribeService

log = logging.getLogger("local")

ACCOUNT = "123456789012"
WEB_DIR = artifacts.PROJECT_ROOT / "web"
LAMBDA_PATH = "/aws/lambda"
TRANSLATE_PATH = "/aws/translate"
POLLY_PATH = "/aws/polly"
ISSUER_PATH = "/local"


@dataclass(frozen=True)
class Options:
    """What ``python -m local`` was asked to run."""

    stack: str = "dev"
    port: int = 8787
    state: Path | None = None
    engine: str = "real"
    engines_module: str = "local.engines"
    idle_seconds: float = 600.0
    lifetime_seconds: float = 7200.0
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    schedule_seconds: float | None = None
    max_containers: int = 8
    max_long_containers: int = 64
    config: dict[str, Any] = field(default_factory=dict)


class LocalBackend:
    """Everything running; ``start()`` then ``stop()``."""

    def __init__(self, stack: StackView, options: Options, state_dir: Path) -> None:
        self.stack = stack
        self.options = options
        self.state_dir = state_dir
        self.base_url = f"http://127.0.0.1:{options.port}"
        self.region = stack.region()
        self.functions = stack.functions()
        self.stage = stack.stage()
        self.websocket_url = f"ws://127.0.0.1:{options.port}/ws"
        self._runner: web.AppRunner | None = None
        self._closers: list[Any] = []

    # -- configuration of each function -------------------------------------------------------

    def local_overrides(self, issuer: LocalIssuer) -> dict[str, str]:
        """Variables the stack sets to AWS addresses, and their local addresses (applied only where set)."""
        return {"WEBSOCKET_ENDPOINT": f"{self.base_url}/{self.stage}",
                "TOKEN_ISSUER": issuer.issuer, "TOKEN_JWKS_URL": issuer.jwks_url}

    def function_environment(self, spec: FunctionSpec, overrides: dict[str, str], code_root: str) -> dict[str, str]:
        """The function's own environment, local addresses for AWS ones, and what Lambda's runtime sets."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
               **spec.environment}
        env.update({key: value for key, value in overrides.items() if key in spec.environment})
        env.update(LOCAL_CREDENTIALS)
        env.update({
            "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.aws.endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": self.base_url + LAMBDA_PATH,
            # The trailing slash matters: botocore sends Translate's requests (path "/") to the
            # endpoint's own path, which must then be the sub-app's "/" route.
            "AWS_ENDPOINT_URL_TRANSLATE": self.base_url + TRANSLATE_PATH + "/",
            "AWS_ENDPOINT_URL_POLLY": self.base_url + POLLY_PATH + "/",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "_HANDLER": spec.handler, "LAMBDA_TASK_ROOT": code_root, "TZ": ":UTC",
            # No X-Ray daemon runs locally.
            "POWERTOOLS_TRACE_DISABLED": "true", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        })
        return env

    def code_directories(self) -> dict[str, list[str]]:
        """Function -> its unpacked code zip, then its unpacked layers when this interpreter is Lambda's
        (layers hold wheels for Lambda's Python; otherwise the same pinned packages come from this
        environment, installed by scripts/local.sh from the layers' requirement files)."""
        same_python = f"{sys.version_info.major}.{sys.version_info.minor}" == artifacts.LAMBDA_PYTHON_VERSION
        layer_paths = self.stack.layer_paths()
        unpacked: dict[str, str] = {}

        def unpack(zip_path: str, kind: str) -> str:
            if zip_path not in unpacked:
                unpacked[zip_path] = extract_zip(zip_path, self.state_dir / kind / Path(zip_path).stem)
            return unpacked[zip_path]

        out = {}
        for name, spec in self.functions.items():
            dirs = [unpack(spec.code_path, "code")]
            if same_python:
                dirs += [str(Path(unpack(layer_paths[arn], "layers")) / "python") for arn in spec.layers if arn in layer_paths]
            out[name] = dirs
        return out

    # -- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every part; returns when the server accepts connections."""
        journal = self.state_dir / "aws-requests.jsonl" if self.options.state is not None else None
        self.aws = await asyncio.to_thread(AwsState(self.stack, self.region, journal).start)
        self._closers.append(lambda: asyncio.to_thread(self.aws.stop))
        self.engines = await _maybe_await(_load_engines(self.options.engines_module, self.options.engine))
        self._closers.append(self._close_engines)
        self.transcribe = await TranscribeService(self.engines.transcribe_factory).start()
        self._closers.append(self.transcribe.close)
        client_id = self.functions[self.stack.authorizer_function()].environment.get("COGNITO_CLIENT_ID", "local-client")
        self.issuer = LocalIssuer(self.base_url + ISSUER_PATH, client_id)
        overrides = self.local_overrides(self.issuer)
        code_dirs = self.code_directories()
        environments = {name: self.function_environment(spec, overrides, code_dirs[name][0])
                        for name, spec in self.functions.items()}
        self.lambdas = LambdaService(
            self.functions, environments, code_dirs, self.state_dir / "logs", self.region, ACCOUNT,
            self.stack.async_configs(), Destinations(self.aws), max_containers=self.options.max_containers,
            max_long_containers=self.options.max_long_containers,
            retry_delays=self.options.retry_delays,
            extra_args={name: ["--transcribe", self.transcribe.address] for name in self.functions})
        self._closers.append(self.lambdas.close)
        api_id = self.stack.outputs.get("websocket_url", "wss://local.").split("//", 1)[1].split(".", 1)[0]
        self.gateway = Gateway(self.lambdas, self.stack.routes(), self.stack.authorizer_function(), self.stage, api_id,
                               self.region, ACCOUNT, GatewayLimits(idle_seconds=self.options.idle_seconds,
                                                                   lifetime_seconds=self.options.lifetime_seconds))
        self._closers.append(self.gateway.close)
        self.scheduler = Scheduler(self.lambdas, self.stack.schedules(), self.region, ACCOUNT,
                                   self.options.schedule_seconds)
        self._closers.append(self.scheduler.close)

        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.add_routes(self.gateway.routes())
        app.add_routes(self.lambdas.routes(LAMBDA_PATH))
        app.add_routes(self.issuer.routes(ISSUER_PATH))
        app.add_routes([web.get("/config.json", self._handle_config), web.get("/", self._handle_index)])
        app.add_subapp(TRANSLATE_PATH, _application(self.engines.translate_app))
        app.add_subapp(POLLY_PATH, _application(self.engines.polly_app))
        if WEB_DIR.is_dir():
            app.router.add_static("/", WEB_DIR, show_index=False)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.options.port, reuse_address=True)
        await site.start()
        await self.lambdas.warm()
        self.scheduler.start()

    async def _close_engines(self) -> None:
        close = getattr(self.engines, "close", None)
        if close is not None:
            await _maybe_await(close())

    async def stop(self) -> None:
        """Stop everything in reverse order: connections first, then functions, server, engines, moto."""
        closers, self._closers = self._closers, []
        gateway_close = getattr(self, "gateway", None)
        if gateway_close is not None:
            with contextlib.suppress(Exception):
                await self.gateway.close()
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
        for close in reversed(closers):
            try:
                await _maybe_await(close())
            except Exception:
                log.exception("while stopping")

    # -- small HTTP handlers -----------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """What web clients read to find the backend."""
        return {"websocketUrl": self.websocket_url, "region": self.region, "stack": self.stack.stack,
                "auth": {"kind": "local", "tokenUrl": f"{ISSUER_PATH}/token"}}

    async def _handle_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.config())

    async def _handle_index(self, request: web.Request) -> web.StreamResponse:
        if (WEB_DIR / "index.html").is_file():
            return web.FileResponse(WEB_DIR / "index.html")
        if (WEB_DIR / "speaker.html").is_file():
            raise web.HTTPFound("/speaker.html")
        return web.json_response({**self.config(), "note": "no web client in this checkout"})

    def banner(self) -> str:
        """What to print once ready."""
        lines = [
            f"Local backend of stack '{self.stack.stack}' ({self.region}); state in {self.state_dir}",
            f"  WebSocket : {self.websocket_url}?role=speaker&token=<token>   (listeners: ?role=listener)",
        ]
        if WEB_DIR.is_dir():
            lines.append(f"  Web       : {self.base_url}/speaker.html  and  {self.base_url}/listener.html")
        lines += [
            f"  Token     : curl -s -X POST {self.base_url}{ISSUER_PATH}/token -d '{{\"username\": \"alice\"}}'"
            "   (use its accessToken)",
            f"  Engines   : {self.options.engine}; function logs in {self.state_dir / 'logs'}",
            "  Ctrl-C stops everything.",
            f"READY {self.websocket_url}",
        ]
        return "\n".join(lines)


def _application(app_or_factory: Any) -> web.Application:
    return app_or_factory if isinstance(app_or_factory, web.Application) else app_or_factory()


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _load_engines(module_name: str, kind: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise SystemExit(f"no engines module {module_name!r} in this checkout (--engines-module names one "
                             "with build_engines(kind))") from None
        raise
    return module.build_engines(kind)


async def serve(stack: StackView, options: Options, state_dir: Path) -> None:
    """Run until SIGINT or SIGTERM, then stop everything."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    backend = LocalBackend(stack, options, state_dir)
    try:
        await backend.start()
        print(backend.banner(), flush=True)
        await stopping.wait()
        print("stopping...", flush=True)
    finally:
        await backend.stop()
