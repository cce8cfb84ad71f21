"""Local bundling: which files go into the function code, and how the layer is installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import DockerImage

from infra import bundling

pytestmark = pytest.mark.xdist_group("cdk")


def make_tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def test_code_files_are_python_and_package_data_of_shared_and_functions(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        [
            "shared/money.py",
            "shared/fonts/DejaVuSans.ttf",
            "shared/einvoice/codes.json",
            "shared/tests/test_money.py",
            "shared/__pycache__/money.cpython-311.pyc",
            "shared/notes.md",
            "functions/invoice_run/handler.py",
            "functions/invoice_run/conftest.py",
            "functions/.mypy_cache/x.json",
            "cli/main.py",
            "tests/unit/test_x.py",
            ".venv/lib/site.py",
        ],
    )

    assert [path.as_posix() for path in bundling.code_files(tmp_path)] == [
        "functions/invoice_run/handler.py",
        "shared/einvoice/codes.json",
        "shared/fonts/DejaVuSans.ttf",
        "shared/money.py",
    ]


def test_copy_code_keeps_relative_paths(tmp_path: Path) -> None:
    make_tree(tmp_path / "src", ["shared/money.py", "functions/archive_api/handler.py"])
    source = tmp_path / "src"
    files = bundling.code_files(source)
    output = tmp_path / "out"
    output.mkdir()

    done = bundling.CopyCode(root=source, files=files).try_bundle(
        str(output), image=bundling.FALLBACK_IMAGE
    )

    assert done
    assert (output / "shared/money.py").read_text() == "shared/money.py"
    assert (output / "functions/archive_api/handler.py").exists()


def test_copy_code_refuses_an_empty_bundle(tmp_path: Path) -> None:
    with pytest.raises(bundling.BundlingError):
        bundling.CopyCode(root=tmp_path, files=()).try_bundle(
            str(tmp_path), image=DockerImage.from_registry("unused")
        )


def test_code_hash_follows_content(tmp_path: Path) -> None:
    make_tree(tmp_path, ["shared/money.py"])
    files = bundling.code_files(tmp_path)
    before = bundling.content_hash(tmp_path, files)

    (tmp_path / "shared/money.py").write_text("changed")

    assert bundling.content_hash(tmp_path, files) != before


def test_layer_is_installed_from_arm64_wheels_of_the_lock(tmp_path: Path) -> None:
    command = bundling.pip_command(lock_file=bundling.LAMBDA_LOCK, target=tmp_path)
    joined = " ".join(command)

    assert "--platform manylinux2014_aarch64" in joined
    assert "--only-binary=:all:" in joined
    assert "--python-version " + bundling.PYTHON_VERSION in joined
    assert command[-2:] == ["-r", str(bundling.LAMBDA_LOCK)]
    assert bundling.RUNTIME.name == "python" + bundling.PYTHON_VERSION
