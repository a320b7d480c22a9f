"""Build every Lambda code zip and layer zip, deterministically, for Lambda's platform from any host.

    python scripts/build_artifacts.py            # everything
    python scripts/build_artifacts.py --code     # code zips only (fast)

Zips hold sorted entries with fixed timestamps and permissions, so an unchanged tree gives
byte-identical zips and `pulumi up` shows no diff. Layers are installed with
`pip --platform ... --only-binary=:all: --no-deps --target` from their lock files
(`bash scripts/lock.sh`), so native wheels match Lambda whatever the host; a layer is rebuilt
only when its lock changes. Layers never ship what the Lambda runtime provides (boto3, botocore
and their dependencies). Sizes are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.shared import artifacts  # noqa: E402

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_DIRS = {"__pycache__", "tests", ".pytest_cache", ".hypothesis"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
# Lambda's platforms: manylinux_2_28 wheels need Amazon Linux 2023 (python3.12 and later).
PIP_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
COMPRESS_LEVEL = 6


def deterministic_zip(entries: Iterable[tuple[str, Path]], destination: Path) -> None:
    """Write (archive name, file) entries sorted, with fixed timestamps and modes."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_suffix(".tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for arcname, path in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE_TIME)
            executable = path.stat().st_mode & 0o111
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the host
            archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
    temporary.replace(destination)


def tree_entries(root: Path, prefix: str = "") -> list[tuple[str, Path]]:
    """Every file under `root` except tests and caches, as (archive name, path)."""
    entries = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_dir() or SKIPPED_DIRS.intersection(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        entries.append((f"{prefix}{relative.as_posix()}", path))
    return entries


def build_code_bundle(bundle: str) -> Path:
    """Zip the packages of one code bundle from functions/."""
    entries: list[tuple[str, Path]] = []
    for package in artifacts.CODE_BUNDLES[bundle]:
        package_dir = artifacts.FUNCTIONS_DIR / package
        if not (package_dir / "__init__.py").is_file():
            raise SystemExit(f"code bundle '{bundle}' needs functions/{package}/, which is not a package")
        entries += tree_entries(package_dir, prefix=f"{package}/")
    destination = artifacts.code_zip_path(bundle)
    deterministic_zip(entries, destination)
    return destination


def layer_lock(layer: str) -> Path:
    """A layer's lock file (every package pinned, the runtime's own SDK left out): `bash scripts/lock.sh`."""
    lock = artifacts.LAYERS_DIR / layer / "requirements.lock.txt"
    if not lock.is_file():
        raise SystemExit(f"{lock.relative_to(artifacts.PROJECT_ROOT)} is missing; run `bash scripts/lock.sh`")
    return lock


def runtime_provided_in(target: Path) -> list[str]:
    """Entries of an installed layer tree that belong to packages the Lambda runtime already provides."""
    names = {name.replace("-", "_").lower() for name in artifacts.RUNTIME_PROVIDED}
    modules = set(artifacts.RUNTIME_PROVIDED.values())
    found = []
    for entry in target.iterdir():
        stem = entry.name.split(".")[0] if not entry.name.endswith(".dist-info") else entry.name.split("-")[0].lower()
        if stem in modules or stem in names:
            found.append(entry.name)
    return sorted(found)


def layer_inputs_digest(layer: str) -> str:
    """What a layer's content depends on: its lock and the target platform."""
    requirements = layer_lock(layer).read_bytes()
    target = f"{artifacts.LAMBDA_PYTHON_VERSION}|{'|'.join(PIP_PLATFORMS)}|deflate-{COMPRESS_LEVEL}".encode()
    return hashlib.sha256(requirements + target).hexdigest()


def build_layer(layer: str, force: bool = False) -> Path:
    """pip-install a layer's requirements for Lambda's platform into python/ and zip it."""
    destination = artifacts.layer_zip_path(layer)
    stamp = destination.with_suffix(".inputs")
    digest = layer_inputs_digest(layer)
    if not force and destination.is_file() and stamp.is_file() and stamp.read_text() == digest:
        return destination
    staging = artifacts.BUILD_DIR / "layer-src" / layer
    shutil.rmtree(staging, ignore_errors=True)
    target = staging / "python"
    # Exactly the lock, nothing resolved here (--no-deps): the lock leaves out what the runtime provides.
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check", "--root-user-action=ignore",
               "--no-deps", "--target", str(target), "--implementation", "cp",
               "--python-version", artifacts.LAMBDA_PYTHON_VERSION, "--only-binary=:all:",
               "-r", str(layer_lock(layer))]
    for platform in PIP_PLATFORMS:
        command[4:4] = ["--platform", platform]
    subprocess.run(command, check=True)
    # A layer's copy of boto3, botocore or their dependencies comes before the runtime's on sys.path
    # and shadows it; the locks leave them out, and a layer that still has one is not built.
    shadowing = runtime_provided_in(target)
    if shadowing:
        raise SystemExit(f"layer {layer} would ship {shadowing}, which the Lambda runtime provides; "
                         f"remove them from layers/{layer}/requirements.lock.txt (`bash scripts/lock.sh`)")
    deterministic_zip(tree_entries(target, prefix="python/"), destination)
    stamp.write_text(digest)
    return destination


def unzipped_size(path: Path) -> int:
    """Total uncompressed size of a zip, what counts against Lambda's 250 MB."""
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def main(argv: list[str] | None = None) -> int:
    """Build what was asked and print each artifact's size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", action="store_true", help="build the code zips only")
    parser.add_argument("--force", action="store_true", help="rebuild layers even when unchanged")
    options = parser.parse_args(argv)
    built = [build_code_bundle(bundle) for bundle in artifacts.CODE_BUNDLES]
    if not options.code:
        built += [build_layer(layer, options.force) for layer in artifacts.LAYERS]
    for path in built:
        print(f"{path.relative_to(artifacts.PROJECT_ROOT)}: {path.stat().st_size / 1e6:.2f} MB zipped, "
              f"{unzipped_size(path) / 1e6:.2f} MB unzipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
