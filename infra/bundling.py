"""Local bundling of the function code and the dependency layer, so no synth ever needs Docker.

Each asset gets a hash computed here from exactly what goes into it, so an unchanged bundle in
cdk.out is reused, and a stack whose bundling is skipped costs no file copying at all.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("shared", "functions")
LAMBDA_LOCK = REPO_ROOT / "requirements" / "lambda.lock"

PYTHON_VERSION = "3.12"
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34): both wheel generations load there.
PIP_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# Only the type of BundlingOptions.image demands it: local bundling always succeeds or raises.
FALLBACK_IMAGE = DockerImage.from_registry("public.ecr.aws/sam/build-python3.12")

SKIPPED_DIRS = ("tests", "test", "__pycache__", ".*", "*.egg-info")
SKIPPED_FILES = ("test_*.py", "*_test.py", "conftest.py", "*.pyc", ".*")
# What pip leaves in a --target folder that no Lambda import ever reads.
LAYER_CLUTTER = ("bin", "share")


class BundlingError(RuntimeError):
    """Local bundling failed; the message says which step."""


def package_data_patterns() -> tuple[str, ...]:
    """The data file patterns that pyproject.toml declares as package data, plus Python files."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    patterns = {pattern for patterns in package_data.values() for pattern in patterns}
    return ("*.py", *sorted(patterns))


def code_files(root: Path = REPO_ROOT) -> tuple[Path, ...]:
    """The files of the function code asset, relative to the repository root, sorted."""
    patterns = package_data_patterns()
    files = (
        path.relative_to(root)
        for package in CODE_PACKAGES
        for path in _walk(root / package)
        if _matches(path.name, patterns)
    )
    return tuple(sorted(files))


def _walk(directory: Path) -> Iterator[Path]:
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        if path.is_dir() and not _matches(path.name, SKIPPED_DIRS):
            yield from _walk(path)
        elif path.is_file() and not _matches(path.name, SKIPPED_FILES):
            yield path


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch(name, pattern) for pattern in patterns)


def content_hash(root: Path, files: Iterable[Path], *extra: str) -> str:
    digest = hashlib.sha256()
    for part in extra:
        digest.update(part.encode())
        digest.update(b"\0")
    for relative in files:
        digest.update(relative.as_posix().encode())
        digest.update(b"\0")
        digest.update((root / relative).read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class CopyCode:
    """Copies the selected source files into the bundle, keeping their relative paths."""

    def __init__(self, *, root: Path, files: tuple[Path, ...]) -> None:
        self._root = root
        self._files = files

    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        if not self._files:
            raise BundlingError("no function code found under " + ", ".join(CODE_PACKAGES))
        for relative in self._files:
            target = Path(output_dir) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self._root / relative, target)
        return True


@jsii.implements(ILocalBundling)
class PipInstallLayer:
    """Installs the pinned Lambda dependencies as arm64 wheels into the layer's python/ folder."""

    def __init__(self, *, lock_file: Path) -> None:
        self._lock_file = lock_file

    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        target = Path(output_dir) / "python"
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            pip_command(lock_file=self._lock_file, target=target),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BundlingError("pip could not build the dependency layer:\n" + result.stderr)
        for name in LAYER_CLUTTER:
            shutil.rmtree(target / name, ignore_errors=True)
        for cache in target.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        return True


def pip_command(*, lock_file: Path, target: Path) -> list[str]:
    platforms = [arg for platform in PIP_PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
        "-r",
        str(lock_file),
    ]


def function_code(root: Path = REPO_ROOT) -> lambda_.Code:
    """The code asset that every function shares: shared/ and functions/ only."""
    files = code_files(root)
    return lambda_.Code.from_asset(
        str(root),
        asset_hash=content_hash(root, files, "function-code"),
        bundling=BundlingOptions(image=FALLBACK_IMAGE, local=CopyCode(root=root, files=files)),
    )


def dependency_layer_code(lock_file: Path = LAMBDA_LOCK) -> lambda_.Code:
    """The dependency layer's code asset, rebuilt only when the lock or the platform changes."""
    signature = " ".join(pip_command(lock_file=Path(lock_file.name), target=Path("python"))[3:])
    return lambda_.Code.from_asset(
        str(lock_file.parent),
        asset_hash=content_hash(lock_file.parent, [Path(lock_file.name)], signature),
        bundling=BundlingOptions(image=FALLBACK_IMAGE, local=PipInstallLayer(lock_file=lock_file)),
    )
