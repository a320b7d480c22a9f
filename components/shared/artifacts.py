"""Where the build puts Lambda code and layer zips, and what goes into each.

The same manifest drives `scripts/build_artifacts.py` (which writes the zips) and the
Pulumi program (which deploys them), so the two can never disagree about a path.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pulumi

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
LAYERS_DIR = PROJECT_ROOT / "layers"
BUILD_DIR = PROJECT_ROOT / "build"

# Lambda runtime every function and layer targets; layers are built for its platform.
LAMBDA_RUNTIME = "python3.12"
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_ARCHITECTURE = "x86_64"

# Code bundle -> packages of functions/ it contains (a component's functions share one zip).
CODE_BUNDLES: dict[str, tuple[str, ...]] = {
    "session_management": ("common", "session_management"),
    "audio_transcription": ("common", "audio_transcription", "emotion_dynamics"),
    "translation_pipeline": ("common", "translation_pipeline", "emotion_dynamics"),
}

# Layer -> its requirements file under layers/<name>/.
LAYERS: tuple[str, ...] = ("common", "transcribe", "audio")

# Distributions the Lambda runtime provides, with their import names: layers must not ship them
# (a layer's copy comes first on sys.path and shadows the runtime's botocore dependencies).
RUNTIME_PROVIDED: dict[str, str] = {
    "boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "jmespath": "jmespath",
    "urllib3": "urllib3", "python-dateutil": "dateutil", "six": "six",
}
# Their exact versions in the runtime, for the layer locks (as constraints) and the runtime-import test.
RUNTIME_PINS = LAYERS_DIR / "lambda-runtime.txt"

# Direct uploads of Lambda code fail above about 50 MB zipped.
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024

BUILD_COMMAND = "python scripts/build_artifacts.py"


def code_zip_path(bundle: str) -> Path:
    """Zip of a code bundle."""
    return BUILD_DIR / "functions" / f"{bundle}.zip"


def layer_zip_path(layer: str) -> Path:
    """Zip of a layer (contents under python/)."""
    return BUILD_DIR / "layers" / f"{layer}.zip"


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def require_artifact(path: Path) -> Path:
    """The path of a build output, or a deploy-stopping error that says how to build it."""
    if not path.is_file():
        raise pulumi.RunError(f"build output {_shown(path)} is missing; run `{BUILD_COMMAND}` before `pulumi up`")
    if path.stat().st_size > MAX_DIRECT_UPLOAD_BYTES:
        raise pulumi.RunError(f"{_shown(path)} is {path.stat().st_size / 1e6:.1f} MB, over Lambda's direct-upload limit; "
                              "trim the layer's requirements")
    return path


def source_code_hash(path: Path) -> str:
    """Base64 SHA-256 of a zip, the form Lambda reports, so an unchanged zip shows no diff."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
