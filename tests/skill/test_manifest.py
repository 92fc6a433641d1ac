"""skill.yaml: valid against its schema, true to the tree, in step with SKILL.md and pyproject."""

import ast
import copy
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from sqlalchemy.engine import make_url

from tests.helpers import ROOT
from tests.skill.support import candidate_files

SCHEMA_PATH = ROOT / "tests" / "skill" / "skill.schema.json"

# the phrases the skill promises to answer to (issue 6); the manifest may add more, never fewer
REQUIRED_TRIGGERS = [
    "set up a database",
    "create database models",
    "add SQLAlchemy",
    "create migrations",
    "run Alembic",
    "connect to PostgreSQL",
    "add a database layer",
    "create CRUD operations",
    "set up async database",
]
REQUIRED_KEYWORDS = [
    "SQLAlchemy",
    "Alembic",
    "ORM",
    "async database",
    "connection pool",
    "database migrations",
]
DATABASE_LIBRARIES = {"sqlalchemy", "alembic", "asyncpg", "aiosqlite"}


def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _schema_errors(data: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    ]


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def test_validate_manifest_against_schema(manifest: dict[str, Any]) -> None:
    assert _schema_errors(manifest) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(lambda m: m.update(homepage="x"), "Additional properties", id="unknown-key"),
        pytest.param(lambda m: m.pop("version"), "'version' is a required", id="missing-version"),
        pytest.param(lambda m: m.update(name="Database"), "does not match", id="uppercase-name"),
        pytest.param(
            # usage lives in each script's --help, never in a copy that can drift
            lambda m: m["scripts"][0].update(usage="python3 scripts/scaffold.py"),
            "Additional properties",
            id="script-usage-copied",
        ),
        pytest.param(
            lambda m: m["scripts"][0].update(path="scripts/_lib/cli.py"),
            "does not match",
            id="private-module-as-script",
        ),
        pytest.param(
            lambda m: m["requirements"]["libraries"][0].update(range="2.0"),
            "does not match",
            id="range-without-operator",
        ),
        pytest.param(
            lambda m: m["backends"][0].update(name="mysql"), "is not one of", id="unknown-backend"
        ),
    ],
)
def test_reject_broken_manifest_with_schema(
    manifest: dict[str, Any], change: Any, expected: str
) -> None:
    broken = copy.deepcopy(manifest)
    change(broken)
    assert any(expected in error for error in _schema_errors(broken)), _schema_errors(broken)


def test_find_every_listed_path(manifest: dict[str, Any]) -> None:
    listed = [
        entry["path"]
        for section in ("references", "scripts", "assets")
        for entry in manifest[section]
    ]
    missing = [
        path
        for path in [manifest["entry"], *listed]
        if not ((ROOT / path).is_dir() if path.endswith("/") else (ROOT / path).is_file())
    ]
    assert missing == [], f"skill.yaml lists paths that do not exist: {missing}"


def test_list_every_reference_file(manifest: dict[str, Any]) -> None:
    listed = {entry["path"] for entry in manifest["references"]}
    assert candidate_files("references") == listed


def test_list_every_script(manifest: dict[str, Any]) -> None:
    # the commands are the .py files at the top of scripts/; scripts/_lib/ is their private code
    present = {p for p in candidate_files("scripts") if re.fullmatch(r"scripts/[^/_][^/]*\.py", p)}
    assert present == {entry["path"] for entry in manifest["scripts"]}


def test_cover_every_asset_file(manifest: dict[str, Any]) -> None:
    listed = [entry["path"] for entry in manifest["assets"]]

    def covered(path: str) -> bool:
        return any(path == p or (p.endswith("/") and path.startswith(p)) for p in listed)

    assert sorted(p for p in candidate_files("assets") if not covered(p)) == []


def test_name_every_troubleshooting_entry_in_needs(manifest: dict[str, Any]) -> None:
    """An agent looking for an error's text in the manifest finds the entry that explains it."""
    text = (ROOT / "references" / "troubleshooting.md").read_text(encoding="utf-8")
    headings = [h for h in re.findall(r"^## (.+)$", text, re.MULTILINE) if h != "Contents"]
    [entry] = [e for e in manifest["references"] if e["path"] == "references/troubleshooting.md"]
    needs = _words(" ".join(entry["needs"]))
    assert [h for h in headings if _words(h) not in needs] == []


def test_match_identity_with_skill_md(
    manifest: dict[str, Any], frontmatter: dict[str, Any], pyproject: dict[str, Any]
) -> None:
    metadata = frontmatter.get("metadata") or {}
    assert manifest["name"] == frontmatter["name"]
    assert manifest["description"] == frontmatter["description"]
    assert manifest["version"] == str(metadata.get("version")) == pyproject["project"]["version"]


def test_keep_required_triggers_and_keywords(manifest: dict[str, Any]) -> None:
    assert set(REQUIRED_TRIGGERS) <= set(manifest["triggers"])
    assert set(REQUIRED_KEYWORDS) <= set(manifest["keywords"])


def test_find_triggers_in_skill_md_description(
    manifest: dict[str, Any], frontmatter: dict[str, Any]
) -> None:
    description = _words(frontmatter["description"])
    absent = [
        phrase
        for phrase in manifest["triggers"] + manifest["keywords"]
        if _words(phrase) not in description
    ]
    assert absent == [], f"SKILL.md's description lacks these phrases: {absent}"


def _pyproject_libraries(pyproject: dict[str, Any]) -> dict[str, tuple[set[str], SpecifierSet]]:
    requirements = map(Requirement, pyproject["project"]["dependencies"])
    return {canonicalize_name(r.name): (set(r.extras), r.specifier) for r in requirements}


def test_match_library_ranges_with_pyproject(
    manifest: dict[str, Any], pyproject: dict[str, Any]
) -> None:
    listed = {
        canonicalize_name(lib["name"]): (set(lib.get("extras", [])), SpecifierSet(lib["range"]))
        for lib in manifest["requirements"]["libraries"]
    }
    assert listed == _pyproject_libraries(pyproject)


def test_match_python_range_with_pyproject(
    manifest: dict[str, Any], pyproject: dict[str, Any]
) -> None:
    listed = SpecifierSet(manifest["requirements"]["python"])
    assert listed == SpecifierSet(pyproject["project"]["requires-python"])
    assert listed.contains(f"{sys.version_info.major}.{sys.version_info.minor}")


def test_match_tested_versions_with_lockfile(manifest: dict[str, Any]) -> None:
    with (ROOT / "uv.lock").open("rb") as f:
        packages = tomllib.load(f)["package"]
    # a lock that forks by Python version can hold two versions of one package
    locked: dict[str, set[Version]] = {}
    for package in packages:
        name = canonicalize_name(package["name"])
        locked.setdefault(name, set()).add(Version(package["version"]))
    for lib in manifest["requirements"]["libraries"]:
        name = canonicalize_name(lib["name"])
        assert Version(lib["tested"]) in locked[name], f"uv.lock has {name} {locked[name]}"
        assert SpecifierSet(lib["range"]).contains(lib["tested"]), f"{name}: tested outside range"


def test_match_backends_with_pytest_markers(
    manifest: dict[str, Any], pyproject: dict[str, Any]
) -> None:
    ini = pyproject["tool"]["pytest"]["ini_options"]
    markers = {line.split(":")[0].strip() for line in ini["markers"]}
    libraries = {canonicalize_name(lib["name"]) for lib in manifest["requirements"]["libraries"]}
    names = set()
    for backend in manifest["backends"]:
        names.add(backend["name"])
        assert canonicalize_name(backend["driver"]) in libraries
        url = make_url(backend["url"])
        assert url.get_backend_name() == backend["name"]
        assert url.get_driver_name() == backend["driver"]
    assert names <= markers, f"backends without a pytest marker: {names - markers}"
    assert names == {"sqlite", "postgresql"}


def _imported_modules(path: Path) -> set[str]:
    """Dotted names of what a module imports; `from a import b` counts as a and a.b."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "script" in metafunc.fixturenames:
        data = yaml.safe_load((ROOT / "skill.yaml").read_text(encoding="utf-8"))
        entries = [pytest.param(e, id=Path(e["path"]).name) for e in data["scripts"]]
        metafunc.parametrize("script", entries)


def _imports_with_helpers(path: Path) -> set[str]:
    """Top-level modules a script imports, following its private package (scripts/_lib)."""
    seen, pending, modules = set(), [path], set()
    while pending:
        current = pending.pop()
        seen.add(current)
        for name in _imported_modules(current):
            if name.split(".")[0] != "_lib":
                modules.add(name.split(".")[0])
                continue
            parts = name.split(".")
            found = [
                candidate
                for candidate in (
                    path.parent.joinpath(*parts).with_suffix(".py"),
                    path.parent.joinpath(*parts, "__init__.py"),
                )
                if candidate.is_file()
            ]
            pending += [f for f in found if f not in seen]
    return modules


def test_declare_database_libraries_truthfully(script: dict[str, Any]) -> None:
    path = ROOT / script["path"]
    assert path.is_file(), f"{script['path']} is listed in skill.yaml but not written yet"
    imported = _imports_with_helpers(path)
    if script["needs_database_libraries"]:
        assert imported & DATABASE_LIBRARIES, f"{path.name} imports none of {DATABASE_LIBRARIES}"
    else:
        third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
        assert third_party == set(), f"{path.name} must run on the standard library alone"
