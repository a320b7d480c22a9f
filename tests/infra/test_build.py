"""Packaging: zips are byte-identical for an unchanged tree, so `pulumi up` shows no diff."""

from __future__ import annotations

import os
import zipfile

from components.shared import artifacts
from scripts.build_artifacts import build_code_bundle, deterministic_zip, tree_entries


def test_code_zip_is_identical_when_built_twice_even_after_touching_files(built_artifacts):
    first = build_code_bundle("session_management").read_bytes()
    for path in (artifacts.FUNCTIONS_DIR / "common").rglob("*.py"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = build_code_bundle("session_management").read_bytes()
    assert first == second


def test_zip_changes_when_content_changes(tmp_path):
    source = tmp_path / "pkg"
    source.mkdir()
    (source / "a.py").write_text("A = 1\n")
    deterministic_zip(tree_entries(source, "pkg/"), tmp_path / "one.zip")
    (source / "a.py").write_text("A = 2\n")
    deterministic_zip(tree_entries(source, "pkg/"), tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() != (tmp_path / "two.zip").read_bytes()


def test_zip_entries_are_sorted_dated_and_free_of_tests_and_caches(built_artifacts):
    with zipfile.ZipFile(artifacts.code_zip_path("translation_pipeline")) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert not [n for n in names if "/tests/" in n or "__pycache__" in n or n.endswith(".pyc")]
    for package in artifacts.CODE_BUNDLES["translation_pipeline"]:
        assert f"{package}/__init__.py" in names


def test_layer_zip_is_reproducible_from_its_installed_tree(built_artifacts, tmp_path):
    staging = artifacts.BUILD_DIR / "layer-src" / "common" / "python"
    deterministic_zip(tree_entries(staging, "python/"), tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == artifacts.layer_zip_path("common").read_bytes()


def test_layers_are_built_for_lambda_and_hold_no_second_boto3(built_artifacts):
    with zipfile.ZipFile(artifacts.layer_zip_path("audio")) as archive:
        names = archive.namelist()
    assert any(n.startswith("python/numpy/") for n in names)
    assert any("manylinux" in n or n.endswith(".so") for n in names if "numpy" in n)
    assert not any(n.startswith("python/botocore/") for n in names)
    assert not any(n.split("/")[1].startswith(("librosa", "scipy", "numba")) for n in names if n.count("/") > 1)


def test_no_layer_ships_what_the_lambda_runtime_provides(built_artifacts):
    # A layer's urllib3/six/dateutil/jmespath would come before the runtime's on sys.path and
    # shadow what the runtime's botocore was released with.
    provided = {name.replace("-", "_").lower() for name in artifacts.RUNTIME_PROVIDED} | set(artifacts.RUNTIME_PROVIDED.values())
    for layer in artifacts.LAYERS:
        with zipfile.ZipFile(artifacts.layer_zip_path(layer)) as archive:
            tops = {name.split("/")[1] for name in archive.namelist() if name.count("/") >= 1}
        stems = {top.split("-")[0].lower() if top.endswith(".dist-info") else top.split(".")[0] for top in tops}
        assert not stems & provided, f"layer {layer} ships {sorted(stems & provided)}"


def test_the_layer_build_refuses_a_tree_with_a_runtime_package(tmp_path):
    from scripts.build_artifacts import runtime_provided_in

    (tmp_path / "numpy").mkdir()
    assert runtime_provided_in(tmp_path) == []
    (tmp_path / "six.py").write_text("")
    (tmp_path / "urllib3").mkdir()
    (tmp_path / "python_dateutil-2.9.0.post0.dist-info").mkdir()
    assert runtime_provided_in(tmp_path) == ["python_dateutil-2.9.0.post0.dist-info", "six.py", "urllib3"]
