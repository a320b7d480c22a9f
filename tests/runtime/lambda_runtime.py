"""Import every deployed handler the way Lambda's runtime would, in an isolated interpreter.

For each function the mocked program registers: the built code zip is unpacked (our /var/task),
each of the function's layers is unpacked (their `python/` dirs are our /opt/python), and a
`python3.12 -I -S` process whose `sys.path` holds only those, the runtime's own boto3/botocore
(installed from `layers/lambda-runtime.txt` into build/) and the standard library imports the
handler string with the function's environment variables. Nothing of the test machine's
site-packages is visible, so a module missing from the function's layers fails here as
`Runtime.ImportModuleError` would in Lambda.

    python -m tests.runtime.lambda_runtime            # every stack, prints each init time
    python -m tests.runtime.lambda_runtime dev
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from components.shared import artifacts

CACHE_DIR = artifacts.BUILD_DIR / "lambda-runtime"
IMPORT_TIMEOUT_SECONDS = 120
REGION = "us-east-1"

# Runs inside the isolated interpreter: argv[1] is a JSON job. sys.path is replaced, not extended,
# so only the standard library stays from the interpreter's own path (-S already dropped site-packages).
_BOOTSTRAP = r"""
import importlib, json, sys, time
job = json.loads(sys.argv[1])
stdlib = [p for p in sys.path if p and "site-packages" not in p and "dist-packages" not in p]
sys.path[:] = job["path"] + stdlib
module_name, _, attribute = job["handler"].rpartition(".")
result = {"python": sys.version.split()[0], "path": sys.path}
started, started_cpu = time.perf_counter(), time.process_time()
try:
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute)
    if not callable(handler):
        raise TypeError(f"{job['handler']} is not callable")
except BaseException as error:
    import traceback
    result.update(ok=False, error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc())
else:
    result.update(ok=True)
result["init_ms"] = (time.perf_counter() - started) * 1000
result["init_cpu_ms"] = (time.process_time() - started_cpu) * 1000
origins = {}
for name in job["report_modules"]:
    loaded = sys.modules.get(name)
    origins[name] = getattr(loaded, "__file__", None) if loaded else None
result["origins"] = origins
print("RESULT " + json.dumps(result))
"""


class RuntimePythonMissing(RuntimeError):
    """The runtime's Python version is not installed on this machine."""


@dataclass(frozen=True)
class FunctionSpec:
    """What Lambda needs to start one function: code, handler, runtime, layers (in order), environment."""

    stack: str
    name: str
    handler: str
    runtime: str
    code_zip: Path
    layer_zips: tuple[tuple[str, Path], ...]
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    """How one handler import went in the isolated runtime."""

    function: FunctionSpec
    ok: bool
    init_ms: float
    init_cpu_ms: float = 0.0
    python: str = ""
    error: str = ""
    detail: str = ""
    origins: dict[str, Optional[str]] = field(default_factory=dict)


def functions_of(deployment) -> list[FunctionSpec]:
    """Every Lambda function a mocked run registered, with its layers resolved to their built zips."""
    layer_zip_by_arn = {}
    for layer in deployment.of_type("aws:lambda/layerVersion:LayerVersion"):
        layer_zip_by_arn[layer.outputs["arn"]] = (layer.inputs["layerName"], Path(layer.inputs["code"].path))
    specs = []
    for function in deployment.of_type("aws:lambda/function:Function"):
        unknown = [arn for arn in function.inputs.get("layers", []) if arn not in layer_zip_by_arn]
        if unknown:
            raise AssertionError(f"{function.inputs['name']}: layers {unknown} are not layers of this stack")
        specs.append(FunctionSpec(
            stack=deployment.stack,
            name=function.inputs["name"],
            handler=function.inputs["handler"],
            runtime=function.inputs["runtime"],
            code_zip=Path(function.inputs["code"].path),
            layer_zips=tuple(layer_zip_by_arn[arn] for arn in function.inputs.get("layers", [])),
            environment=dict((function.inputs.get("environment") or {}).get("variables") or {}),
        ))
    return specs


def runtime_version(runtime: str) -> str:
    """'python3.12' -> '3.12'."""
    if not runtime.startswith("python"):
        raise ValueError(f"not a Python runtime: {runtime!r}")
    return runtime.removeprefix("python")


def _reports_version(candidate: str, version: str) -> bool:
    try:
        completed = subprocess.run([candidate, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0 and completed.stdout.strip() == version


def find_runtime_python(version: str) -> str:
    """An interpreter of exactly this version: $LAMBDA_PYTHON<major><minor>, pythonX.Y on PATH, or pyenv's.

    Raises RuntimePythonMissing (never skips): a check that cannot run must not pass.
    """
    override = os.environ.get(f"LAMBDA_PYTHON{version.replace('.', '')}")
    candidates = [override] if override else []
    candidates.append(f"python{version}")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)]
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        resolved = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if resolved and _reports_version(resolved, version):
            return resolved
    raise RuntimePythonMissing(
        f"python{version}, the Lambda runtime's Python, is not installed: the runtime-import check cannot run. "
        f"Install it (e.g. `pyenv install {version}` or your distribution's python{version} package) or point "
        f"LAMBDA_PYTHON{version.replace('.', '')} at one.")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:20]


@contextlib.contextmanager
def _cache_lock():
    """One builder at a time: the mock suite runs stacks on forked workers that share build/."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def runtime_sdk_dir(version: str, pins: Path = artifacts.RUNTIME_PINS) -> Path:
    """The runtime's own boto3/botocore and their dependencies, exactly as pinned, installed once into build/."""
    target = CACHE_DIR / f"sdk-python{version}"
    stamp = target / ".pins"
    digest = _digest(pins)
    with _cache_lock():
        if stamp.is_file() and stamp.read_text() == digest:
            return target
        shutil.rmtree(target, ignore_errors=True)
        # Pure-Python wheels for the runtime's version, from whichever pip runs this (no pip needed in pythonX.Y).
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--root-user-action=ignore", "--no-compile", "--no-deps", "--only-binary=:all:",
                        "--python-version", version, "--implementation", "cp", "--target", str(target), "-r", str(pins)],
                       check=True)
        stamp.write_text(digest)
    return target


def unpacked(zip_path: Path) -> Path:
    """A zip extracted once into build/ (keyed by its content), reused while the zip is unchanged."""
    destination = CACHE_DIR / "unpacked" / f"{zip_path.stem}-{_digest(zip_path)}"
    with _cache_lock():
        if (destination / ".complete").is_file():
            return destination
        shutil.rmtree(destination, ignore_errors=True)
        partial = destination.with_name(destination.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(partial)
        (partial / ".complete").write_text(zip_path.name)
        partial.rename(destination)
    return destination


def top_level_owners(layer_python_dir: Path) -> dict[str, str]:
    """Importable top-level name -> the installed distribution ("name-version") that ships it."""
    owners = {}
    for record in layer_python_dir.glob("*.dist-info/RECORD"):
        distribution = record.parent.name.removesuffix(".dist-info")
        for line in record.read_text().splitlines():
            top = line.split(",", 1)[0].split("/", 1)[0]
            if top and not top.endswith((".dist-info", ".data")) and top not in {"..", "bin", "__pycache__"}:
                owners[top.split(".")[0]] = distribution
    return owners


def lambda_environment(function: FunctionSpec, task_root: Path) -> dict[str, str]:
    """The function's own variables plus what Lambda's runtime sets in every execution environment."""
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": function.handler,
        # The execution role's temporary credentials; nothing is called at import.
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "example-secret",
        "AWS_SESSION_TOKEN": "example-token",
    }
    reserved = set(environment) & set(function.environment)
    if reserved:
        raise AssertionError(f"{function.name} sets Lambda-reserved variables {sorted(reserved)}")
    return {**environment, **function.environment}


def import_handler(function: FunctionSpec, report_modules: Sequence[str] = ("boto3", "botocore", "urllib3")) -> ImportResult:
    """Import the function's handler in an isolated interpreter of its runtime; never raises for import errors."""
    version = runtime_version(function.runtime)
    python = find_runtime_python(version)
    task_root = unpacked(function.code_zip)
    layer_dirs = [(name, unpacked(path) / "python") for name, path in function.layer_zips]
    # Lambda extracts layers into one /opt in order, a later layer's files over an earlier one's:
    # two layers shipping the same package would mix versions, so that is an error in itself.
    # The same release in two layers is harmless (identical files); two releases of one package are not.
    seen: dict[str, tuple[str, str]] = {}
    for name, directory in layer_dirs:
        if not directory.is_dir():
            return ImportResult(function, False, 0.0, error=f"layer {name} has no python/ directory")
        for top, distribution in top_level_owners(directory).items():
            if top in seen and seen[top][1] != distribution:
                return ImportResult(function, False, 0.0, error=f"layers {seen[top][0]} ({seen[top][1]}) and "
                                                               f"{name} ({distribution}) both ship {top!r}")
            seen.setdefault(top, (name, distribution))
    search_path = [str(task_root)]
    for _, directory in reversed(layer_dirs):
        search_path += [str(directory / "lib" / f"python{version}" / "site-packages"), str(directory)]
    search_path.append(str(runtime_sdk_dir(version)))
    job = {"handler": function.handler, "path": search_path, "report_modules": list(report_modules)}
    completed = subprocess.run([python, "-I", "-S", "-B", "-c", _BOOTSTRAP, json.dumps(job)],
                               cwd=task_root, env=lambda_environment(function, task_root),
                               capture_output=True, text=True, timeout=IMPORT_TIMEOUT_SECONDS)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        return ImportResult(function, False, 0.0, error=f"interpreter exited {completed.returncode}",
                            detail=(completed.stdout + completed.stderr)[-4000:])
    result = json.loads(lines[-1].removeprefix("RESULT "))
    return ImportResult(function, result["ok"], result["init_ms"], result["init_cpu_ms"], python=result["python"],
                        error=result.get("error", ""), detail=result.get("traceback", ""), origins=result["origins"])


def format_results(results: Iterable[ImportResult]) -> str:
    """One line per function: stack, name, layers, init time (wall and CPU: CPU is what a busy
    machine does not inflate) or the error. Imports are cold: no bytecode cache, as in Lambda."""
    lines = []
    for result in results:
        layers = "+".join(name.rsplit("-", 1)[-1] for name, _ in result.function.layer_zips) or "-"
        outcome = (f"init {result.init_ms:7.0f} ms wall {result.init_cpu_ms:7.0f} ms cpu" if result.ok
                   else f"FAILED {result.error}")
        lines.append(f"{result.function.stack:8} {result.function.name:52} {layers:22} {outcome}")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    """Run the check for the given stacks (default: all) and print each function's init time."""
    from tests.harness import STACKS, run_stack

    stacks = (argv if argv is not None else sys.argv[1:]) or list(STACKS)
    results = []
    for stack in stacks:
        results += [import_handler(function) for function in functions_of(run_stack(stack))]
    print(format_results(sorted(results, key=lambda r: (r.function.stack, r.function.name))))
    for result in results:
        if not result.ok:
            print(f"\n{result.function.stack} {result.function.name}:\n{result.detail}", file=sys.stderr)
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
