"""`sam build` builds the layer and every function for arm64, with no Docker and no python3.13."""

from __future__ import annotations

import _imp
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.template.conftest import ROOT, TEMPLATE_PATH, resources_of_type, run_captured, sam_cli

ELF_MAGIC = b"\x7fELF"
EM_AARCH64 = 183  # e_machine of a 64-bit ARM ELF file
# The first four bytes of every python3.13 .pyc (3.13's MAGIC_NUMBER: 3571, then b"\r\n"), and
# its flags word for bytecode checked against nothing at import (PEP 552: hash-based, unchecked).
PYC_313_MAGIC = (3571).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == ELF_MAGIC, f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


def _untracked_files() -> set[str]:
    """What git sees in the repository besides its commits, ignored files included."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        line[3:]
        for line in status.stdout.splitlines()
        if line[:2] in ("??", "!!") and "__pycache__" not in line and ".venv" not in line
    }


@pytest.fixture(scope="module")
def repository_before_build() -> set[str]:
    return _untracked_files()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, repository_before_build: set[str]) -> Path:
    """The build directory of one `sam build` of template.yaml, outside the repository."""
    work = tmp_path_factory.mktemp("sam-build")
    build_dir, cache_dir = work / "build", work / "cache"
    sam = sam_cli()
    assert sam.exists(), f"no SAM CLI at {sam}: run `make setup` (or set SAM_CLI)"
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }

    result = run_captured(
        [
            str(sam),
            "build",
            "--template-file",
            str(TEMPLATE_PATH),
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(cache_dir),
            "--no-cached",
        ],
        env=env,
        timeout=600,
        cwd=ROOT,
    )

    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    return build_dir


@pytest.mark.slow
def test_the_layer_holds_the_kindred_package(built: Path) -> None:
    """
    Given a `sam build` of the template
    When Lambda unpacks the core layer into /opt
    Then /opt/python holds the kindred package with its data files (and the bytecode of each
    module, below), no boto3 (nothing imports it), and the pinned botocore that
    kindred/aws/botocore_data was trimmed from (a Lambda runtime's own botocore is usually
    older, and the clients would then read its full data)
    """
    python = built / "CoreLayer" / "python"
    source = ROOT / "layers" / "core" / "kindred"

    assert (python / "kindred" / "__init__.py").is_file()
    assert (python / "kindred" / "config.py").is_file()
    shipped = {
        p.relative_to(python / "kindred")
        for p in (python / "kindred").rglob("*")
        if "__pycache__" not in p.parts
    }
    expected = {
        p.relative_to(source)
        for p in source.rglob("*")
        if "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    }
    assert shipped == expected
    assert not (python / "boto3").exists()
    trimmed_from = (source / "aws" / "botocore_data" / "VERSION").read_text().strip()
    shipped_botocore = (python / "botocore" / "__init__.py").read_text()
    assert f"__version__ = '{trimmed_from}'" in shipped_botocore


@pytest.mark.slow
def test_every_module_of_the_layer_ships_its_python313_bytecode(built: Path) -> None:
    """
    Given a `sam build` on this machine, which has no python3.13 (the layer's Makefile then
    compiles with CPython 3.13 built for WebAssembly, run by Node.js)
    When python3.13 imports a module from the read-only /opt/python
    Then it finds __pycache__/NAME.cpython-313.pyc beside it, for every .py of the layer (its
    dependencies' and kindred's): python3.13's magic number, flagged as checked against
    nothing (zip's 2-second file times would make timestamp-checked files stale), and made
    from that very source (the source hash it records is the one python3.13 computes); and
    the layer holds no bytecode of any other Python
    """
    python = built / "CoreLayer" / "python"
    sources = sorted(python.rglob("*.py"))
    # python3.13 hashes a source with siphash13 keyed by its own magic number, as 3.11 does.
    key = int.from_bytes(PYC_313_MAGIC, "little")
    headers = {}
    for path in sources:
        pyc = path.parent / "__pycache__" / f"{path.stem}.cpython-313.pyc"
        header = pyc.read_bytes()[:16] if pyc.is_file() else b""
        headers[str(path.relative_to(python))] = (
            header[:4] == PYC_313_MAGIC,
            int.from_bytes(header[4:8], "little") if header else None,
            header[8:16] == _imp.source_hash(key, path.read_bytes()),
        )
    others = [p for p in python.rglob("*.pyc") if not p.name.endswith(".cpython-313.pyc")]

    assert len(sources) > 500  # kindred, pydantic, botocore, Powertools, jwt, cryptography
    assert any(name.startswith("kindred/") for name in headers)
    assert headers == dict.fromkeys(headers, (True, UNCHECKED_HASH, True))
    assert not others


def test_the_layer_build_says_what_it_needs_for_bytecode(tmp_path: Path) -> None:
    """
    Given a machine with neither python3.13 nor Node.js on PATH
    When the core layer is built
    Then the build stops before it installs anything, and says what it needs and how to build
    without bytecode
    """
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sh", "make"):
        (tools / tool).symlink_to(subprocess.check_output(["which", tool], text=True).strip())
    artifacts = tmp_path / "layer"

    result = run_captured(
        [
            "make",
            "-C",
            str(ROOT / "layers" / "core"),
            "build-CoreLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
            "PYTHON313=",
        ],
        env={"PATH": str(tools)},
        timeout=60,
    )

    assert result.returncode != 0
    assert "needs python3.13 or Node.js with npm" in result.stdout + result.stderr
    assert "KINDRED_BYTECODE=skip" in result.stdout + result.stderr
    assert not artifacts.exists()


@pytest.mark.slow
def test_the_layer_dependencies_are_python313_arm64_builds(built: Path) -> None:
    """
    Given a `sam build` on this (x86_64, python3.11) machine
    When Lambda loads the layer's compiled dependencies on arm64 with python3.13
    Then pydantic_core and cryptography's Rust binding are aarch64 builds, as is every other
    shared library in the layer
    """
    python = built / "CoreLayer" / "python"
    (pydantic_core,) = (python / "pydantic_core").glob("_pydantic_core*.so")
    (rust_binding,) = (python / "cryptography" / "hazmat" / "bindings").glob("_rust*.so")
    libraries = list(python.rglob("*.so"))

    assert "aarch64" in pydantic_core.name
    assert "cpython-313" in pydantic_core.name
    # cryptography ships an abi3 wheel: the name says no architecture, the ELF header does.
    assert _elf_machine(rust_binding) == EM_AARCH64
    assert libraries
    assert {path.name: _elf_machine(path) for path in libraries} == {
        path.name: EM_AARCH64 for path in libraries
    }


@pytest.mark.slow
def test_every_function_artifact_has_its_handler(built: Path, template: dict[str, Any]) -> None:
    """
    Given a `sam build` of the template
    When Lambda loads a function's artifact
    Then it finds app.py (the same file as in the repository), and the built template points
    the function at that artifact
    """
    functions = resources_of_type(template, "AWS::Serverless::Function")
    built_template = (built / "template.yaml").read_text(encoding="utf-8")

    assert functions
    for logical_id, function in functions.items():
        handler = built / logical_id / "app.py"
        source = ROOT / function["Properties"]["CodeUri"] / "app.py"
        assert handler.read_bytes() == source.read_bytes(), logical_id
        assert f"CodeUri: {logical_id}" in built_template
    assert "ContentUri: CoreLayer" in built_template


@pytest.mark.slow
def test_the_build_leaves_the_repository_clean(
    built: Path, repository_before_build: set[str]
) -> None:
    """
    Given a `sam build` into a temporary build directory
    When it is done
    Then it wrote nothing into the repository (no .aws-sam, no layer files in the sources)
    """
    written = _untracked_files() - repository_before_build

    assert not [path for path in written if path.startswith((".aws-sam", "layers/", "functions/"))]
    assert (built / "template.yaml").is_file()


@pytest.mark.slow
def test_the_layer_ships_the_clients_botocore_data(built: Path) -> None:
    """
    Given a `sam build` of the template
    When a function builds its clients from the layer's kindred (kindred.aws.clients)
    Then the layer's botocore_data is the repository's, byte for byte (the models trimmed from
    the pinned botocore, its endpoints, and VERSION)
    """
    data = Path("kindred") / "aws" / "botocore_data"
    layer, source = built / "CoreLayer" / "python" / data, ROOT / "layers" / "core" / data
    shipped = {p.relative_to(layer): p.read_bytes() for p in layer.rglob("*") if p.is_file()}

    assert (Path("dynamodb") / "2012-08-10" / "service-2.json") in shipped
    assert Path("VERSION") in shipped
    assert shipped == {
        p.relative_to(source): p.read_bytes() for p in source.rglob("*") if p.is_file()
    }


@pytest.mark.slow
def test_the_layer_installs_no_pydantic_plugin(built: Path) -> None:
    """
    Given a `sam build` of the template (the functions run with PYDANTIC_DISABLE_PLUGINS)
    When pydantic would look for its plugins (the `pydantic` entry-point group)
    Then no package of the layer declares one: disabling the search changes nothing
    """
    python = built / "CoreLayer" / "python"
    declared = list(python.glob("*.dist-info/entry_points.txt"))
    groups = {
        line.strip()
        for path in declared
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("[")
    }

    assert list(python.glob("pydantic-*.dist-info"))
    assert "[pydantic]" not in groups
