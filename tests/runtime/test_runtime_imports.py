"""Every deployed handler imports in Lambda's runtime from exactly its code zip and its layers.

The functions, handler strings, runtimes, layers and environments come from the real program
under mocks (one run per stack, shared with the infra tests), not from a list kept here.
"""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from components.shared import artifacts
from tests.harness import STACKS
from tests.runtime import conftest
from tests.runtime.lambda_runtime import (
    FunctionSpec,
    RuntimePythonMissing,
    find_runtime_python,
    functions_of,
    import_handler,
    runtime_sdk_dir,
    runtime_version,
)

RUNTIME_VERSION = runtime_version(artifacts.LAMBDA_RUNTIME)


def test_the_runtime_python_is_installed():
    # Loud on purpose: without it the check below cannot run, and that must not look like a pass.
    try:
        python = find_runtime_python(RUNTIME_VERSION)
    except RuntimePythonMissing as missing:
        pytest.fail(str(missing))
    assert python


def test_a_missing_runtime_python_is_an_error_not_a_skip(monkeypatch, tmp_path):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.delenv("LAMBDA_PYTHON399", raising=False)
    with pytest.raises(RuntimePythonMissing, match=r"python3\.99, the Lambda runtime's Python, is not installed"):
        find_runtime_python("3.99")
    function = FunctionSpec("test", "probe", "probe.handler.lambda_handler", "python3.99", tmp_path / "none.zip", ())
    with pytest.raises(RuntimePythonMissing):
        import_handler(function)


@pytest.mark.parametrize("stack", STACKS)
def test_every_handler_imports_in_the_lambda_runtime(deployments, stack):
    functions = functions_of(deployments[stack])
    assert functions, f"the {stack} stack registered no Lambda function"
    assert {function.runtime for function in functions} == {artifacts.LAMBDA_RUNTIME}
    # Two at a time: each import is its own interpreter, mostly CPU-bound.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(import_handler, functions))
    conftest.INIT_TIMES.extend(results)
    failures = [f"{r.function.name} ({r.function.handler}, layers {[n for n, _ in r.function.layer_zips]}): {r.error}\n{r.detail}"
                for r in results if not r.ok]
    assert not failures, "handlers that Lambda could not import:\n" + "\n".join(failures)
    assert {r.python.rsplit(".", 1)[0] for r in results} == {RUNTIME_VERSION}
    sdk = str(runtime_sdk_dir(RUNTIME_VERSION))
    for result in results:
        # boto3/botocore, when a handler loads them, are the runtime's own: no layer shadows them.
        for module in ("boto3", "botocore", "urllib3"):
            origin = result.origins.get(module)
            assert origin is None or origin.startswith(sdk), f"{result.function.name}: {module} from {origin}"


def _probe_function(tmp_path: Path, source: str, layers: tuple[str, ...], environment: dict | None = None) -> FunctionSpec:
    """A one-module code zip with the given handler source, on real built layers."""
    code_zip = tmp_path / "probe.zip"
    with zipfile.ZipFile(code_zip, "w") as archive:
        archive.writestr("probe/__init__.py", "")
        archive.writestr("probe/handler.py", source + "\n\ndef lambda_handler(event, context):\n    return event\n")
    return FunctionSpec(stack="test", name="probe", handler="probe.handler.lambda_handler", runtime=artifacts.LAMBDA_RUNTIME,
                        code_zip=code_zip, layer_zips=tuple((layer, artifacts.layer_zip_path(layer)) for layer in layers),
                        environment=environment or {})


def test_a_handler_importing_a_module_missing_from_its_layers_fails(built_artifacts, tmp_path):
    # sendAudio's old failure: amazon_transcribe lives only in the transcribe layer.
    without = import_handler(_probe_function(tmp_path, "import amazon_transcribe.model", ("common", "audio")))
    assert not without.ok
    assert "No module named 'amazon_transcribe'" in without.error
    with_layer = import_handler(_probe_function(tmp_path, "import amazon_transcribe.model", ("common", "transcribe", "audio")))
    assert with_layer.ok, with_layer.detail


def test_nothing_of_the_test_machine_is_visible(built_artifacts, tmp_path):
    # moto and pytest are installed where the tests run, never in a layer.
    for module in ("moto", "pytest", "pulumi"):
        result = import_handler(_probe_function(tmp_path, f"import {module}", ("common",)))
        assert not result.ok and f"No module named '{module}'" in result.error, result


def test_the_runtime_sdk_is_the_pinned_one_and_the_environment_is_the_functions(built_artifacts, tmp_path):
    pins = dict(line.split("==") for line in artifacts.RUNTIME_PINS.read_text().splitlines() if "==" in line)
    source = (f"import os, boto3, botocore\n"
              f"assert boto3.__version__ == {pins['boto3']!r}, boto3.__version__\n"
              f"assert botocore.__version__ == {pins['botocore']!r}, botocore.__version__\n"
              f"assert os.environ['TABLE'] == 'sessions' and os.environ['AWS_REGION']\n"
              f"assert os.environ['LAMBDA_TASK_ROOT'] == os.getcwd()")
    result = import_handler(_probe_function(tmp_path, source, ("common",), {"TABLE": "sessions"}))
    assert result.ok, result.error + result.detail
    assert result.origins["boto3"].startswith(str(runtime_sdk_dir(RUNTIME_VERSION)))


def test_an_exception_at_import_fails_the_check(built_artifacts, tmp_path):
    result = import_handler(_probe_function(tmp_path, "import os\nos.environ['REQUIRED_TABLE']", ("common",)))
    assert not result.ok and "KeyError" in result.error
