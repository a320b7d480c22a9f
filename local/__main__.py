"""``python -m local [--stack dev|staging|prod] [--port 8787] [--state DIR] [--engine real|scripted]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from local.lambda_service import DEFAULT_RETRY_DELAYS
from local.server import Options, serve


def parse(argv: list[str]) -> Options:
    """Options from the command line."""
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--stack", default="dev", choices=("dev", "staging", "prod"))
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--state", type=Path, default=None, help="keep logs and unpacked code here (default: a temp folder)")
    parser.add_argument("--engine", default="real", choices=("real", "scripted"))
    parser.add_argument("--engines-module", default="local.engines", help="module with build_engines(kind)")
    parser.add_argument("--idle-timeout", type=float, default=600.0, help="seconds (API Gateway: 600)")
    parser.add_argument("--lifetime", type=float, default=7200.0, help="seconds (API Gateway: 7200)")
    parser.add_argument("--retry-delays", default=",".join(f"{d:g}" for d in DEFAULT_RETRY_DELAYS),
                        help="seconds before each async retry (Lambda: about 60,120)")
    parser.add_argument("--schedule-seconds", type=float, default=None, help="fire scheduled rules this often instead")
    parser.add_argument("--max-containers", type=int, default=8,
                        help="containers per function without reserved concurrency (more invocations queue)")
    parser.add_argument("--max-long-containers", type=int, default=64,
                        help="the same for functions with a timeout of 5 minutes or more (the stream worker)")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                        help="as `pulumi config set` on the stack for this run, e.g. rateLimits:sessionsPerHour=500")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    return Options(stack=args.stack, port=args.port, state=args.state, engine=args.engine,
                   engines_module=args.engines_module, idle_seconds=args.idle_timeout, lifetime_seconds=args.lifetime,
                   retry_delays=tuple(float(d) for d in args.retry_delays.split(",") if d.strip()),
                   schedule_seconds=args.schedule_seconds, max_containers=args.max_containers,
                   max_long_containers=args.max_long_containers,
                   config=config_overrides(args.config, parser))


def config_overrides(pairs: list[str], parser: argparse.ArgumentParser) -> dict[str, object]:
    """``KEY=VALUE`` pairs as the program's config (a key without a namespace gets the project's; VALUE is
    JSON when it parses, else a string)."""
    from tests.harness import PROJECT

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            parser.error(f"--config takes KEY=VALUE, got {pair!r}")
        try:
            value: object = json.loads(raw)
        except ValueError:
            value = raw
        out[key if ":" in key else f"{PROJECT}:{key}"] = value  # the rule of tests.harness.stack_config
    return out


def main(argv: list[str] | None = None) -> int:
    """Read the stack, then serve until Ctrl-C."""
    options = parse(sys.argv[1:] if argv is None else argv)
    from components.shared import artifacts

    missing = [p for p in [*map(artifacts.code_zip_path, artifacts.CODE_BUNDLES), *map(artifacts.layer_zip_path, artifacts.LAYERS)]
               if not p.is_file()]
    if missing:
        print(f"build outputs are missing ({', '.join(p.name for p in missing)}): run `{artifacts.BUILD_COMMAND}` "
              "(scripts/local.sh does)", file=sys.stderr)
        return 2
    from local.stack import StackView

    # The Pulumi program under mocks: what the stack deploys, read before the event loop starts.
    try:
        stack = StackView.load(options.stack, options.config)
    except Exception as error:  # noqa: BLE001 - a config the program refuses: say why, as `pulumi up` would
        print(f"the stack's program refused to run: {error}", file=sys.stderr)
        return 2
    temporary = options.state is None
    state_dir = Path(tempfile.mkdtemp(prefix="speech-local-")) if temporary else options.state.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(serve(stack, options, state_dir))
    finally:
        if temporary:
            shutil.rmtree(state_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
