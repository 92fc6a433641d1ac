"""Find a FastAPI project's package and the module that creates its app, at module level or in a
factory function (`def create_app(): application = FastAPI(...); ...; return application`)."""

import ast
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

# folders that never hold the application module
SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", "node_modules", "tests", "migrations"}
PREFERRED_NAMES = ("main.py", "app.py", "api.py", "server.py", "__init__.py")


class LayoutError(Exception):
    """The project cannot be scaffolded as it is; the message says what to do."""


@dataclass(frozen=True)
class Factory:
    """A function that builds the app: the lines for the app go inside it."""

    name: str
    # the function's local variable holding FastAPI(...), and the line of its `return`
    variable: str
    return_line: int
    # the indentation of the function's body
    indent: str


@dataclass(frozen=True)
class AppModule:
    path: Path
    module: str
    # the module-level variable the tests import: `app = FastAPI()` or `app = create_app()`
    variable: str
    # the expression passed as lifespan=..., when the app already has one
    lifespan: str | None
    # the line of the FastAPI(...) call
    line: int
    factory: Factory | None = None


@dataclass(frozen=True)
class Layout:
    root: Path
    package: str
    package_dir: Path
    # the folder that goes on sys.path: the project itself, or its src/
    import_root: Path
    app: AppModule


def _is_fastapi_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "FastAPI") or (
        isinstance(func, ast.Attribute) and func.attr == "FastAPI"
    )


def _lifespan(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "lifespan" and not (
            isinstance(keyword.value, ast.Constant) and keyword.value.value is None
        ):
            return ast.unparse(keyword.value)
    return None


def _assigned_call(node: ast.stmt) -> tuple[str, ast.Call] | None:
    """(variable, call) for `variable = call(...)` or `variable: T = call(...)`."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None
    if isinstance(target, ast.Name) and isinstance(value, ast.Call):
        return target.id, value
    return None


def _factory(tree: ast.Module) -> tuple[str | None, ast.Call, Factory] | None:
    """The factory function that assigns FastAPI(...) to a local and returns it, and the
    module-level variable that calls it (None when the module never calls it)."""
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and node.value and _is_fastapi_call(node.value):
                raise LayoutError(
                    f"{function.name}() returns FastAPI(...) directly, so there is no "
                    "place for the app's lines: assign it first (application = FastAPI(...)), "
                    "`return application`, then rerun"
                )
            assigned = _assigned_call(node) if isinstance(node, ast.stmt) else None
            if assigned is None or not _is_fastapi_call(assigned[1]):
                continue
            local, call = assigned
            returns = [
                r
                for r in ast.walk(function)
                if isinstance(r, ast.Return)
                and isinstance(r.value, ast.Name)
                and r.value.id == local
            ]
            if not returns:
                raise LayoutError(
                    f"{function.name}() creates {local} = FastAPI(...) but does not "
                    f"`return {local}`: return it, then rerun"
                )
            last = returns[-1]
            factory = Factory(function.name, local, last.lineno, " " * last.col_offset)
            callers = [
                variable
                for variable, value in filter(None, map(_assigned_call, tree.body))
                if isinstance(value.func, ast.Name) and value.func.id == function.name
            ]
            return (callers[0] if callers else None), call, factory
    return None


def find_app_in_file(path: Path) -> AppModule | None | Literal[False]:
    """The app a module creates; None if it creates none; False if it calls FastAPI(...) in a
    way the tests cannot import (inside a function without a module-level app)."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "FastAPI" not in source:
        return None
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError:
        return None
    for node in tree.body:
        assigned = _assigned_call(node)
        if assigned is not None and _is_fastapi_call(assigned[1]):
            return AppModule(path, "", assigned[0], _lifespan(assigned[1]), node.lineno)
    found = _factory(tree)
    if found is not None:
        variable, call, factory = found
        if variable is None:
            return False
        return AppModule(path, "", variable, _lifespan(call), call.lineno, factory)
    if any(isinstance(sub, ast.Call) and _is_fastapi_call(sub) for sub in ast.walk(tree)):
        return False
    return None


def _python_files(package_dir: Path) -> list[Path]:
    found: list[Path] = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).parts
        if not any(part in SKIP_DIRS or part.startswith(".") for part in parts[:-1]):
            found.append(path)
    # the conventional names first, then the shallowest module
    rank = {name: i for i, name in enumerate(PREFERRED_NAMES)}
    return sorted(found, key=lambda p: (len(p.parts), rank.get(p.name, len(rank)), str(p)))


def _module_name(path: Path, import_root: Path) -> str:
    parts = list(path.relative_to(import_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_app(root: Path, package_dir: Path, import_root: Path) -> AppModule | None:
    inside_function: Path | None = None
    for path in _python_files(package_dir):
        try:
            found = find_app_in_file(path)
        except LayoutError as exc:
            raise LayoutError(f"{path.relative_to(root)}: {exc}") from None
        if found is False:
            inside_function = inside_function or path
        elif found is not None:
            return replace(found, module=_module_name(path, import_root))
    if inside_function is not None:
        raise LayoutError(
            f"{inside_function.relative_to(root)} creates FastAPI(...) inside a function that "
            "no module-level variable calls, and the copied tests import a module-level app: "
            "add `app = create_app()` (your factory's name) to that module, then rerun"
        )
    return None


def _pyproject_names(root: Path) -> list[str]:
    """Package names a pyproject.toml declares (project name, poetry/hatch/setuptools lists)."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    tool = data.get("tool", {})
    raw: list[object] = [data.get("project", {}).get("name"), tool.get("poetry", {}).get("name")]
    for entry in tool.get("poetry", {}).get("packages", []):
        raw.append(entry.get("include") if isinstance(entry, dict) else None)
    wheel = tool.get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    raw.extend(wheel.get("packages", []))
    packages = tool.get("setuptools", {}).get("packages", [])
    raw.extend(packages if isinstance(packages, list) else [])
    names: list[str] = []
    for item in raw:
        if isinstance(item, str) and item:
            name = re.sub(r"[-.]+", "_", Path(item).name).lower()
            if name.isidentifier() and name not in names:
                names.append(name)
    return names


def _has_python(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.py"))


def _conventional(root: Path) -> list[tuple[str, Path, Path]]:
    """app/, then the packages pyproject.toml names: tried in order, the first with an app wins."""
    found = []
    if _has_python(root / "app"):
        found.append(("app", root / "app", root))
    for name in _pyproject_names(root):
        for base in (root, root / "src"):
            candidate = (name, base / name, base)
            if _has_python(base / name) and candidate not in found:
                found.append(candidate)
    return found


def _discoverable(root: Path) -> list[tuple[str, Path, Path]]:
    """Every other package at the top of the project or in src/: one of them must create the
    app, and only one."""
    found = []
    for base in (root, root / "src"):
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            name = child.name
            if (
                name.isidentifier()
                and name not in SKIP_DIRS
                and not (base == root and name == "src")
                and _has_python(child)
            ):
                found.append((name, child, base))
    return found


def _named(root: Path, package: str) -> list[tuple[str, Path, Path]]:
    parts = package.split(".")
    if not all(part.isidentifier() for part in parts):
        raise LayoutError(f"--package {package!r} is not a Python package name: use a.b form")
    found = [(package, base.joinpath(*parts), base) for base in (root, root / "src")]
    return [c for c in found if _has_python(c[1])]


def _with_app(root: Path, candidates: list[tuple[str, Path, Path]]) -> list[Layout]:
    layouts = []
    for name, package_dir, import_root in candidates:
        app = find_app(root, package_dir, import_root)
        if app is not None:
            layouts.append(Layout(root, name, package_dir, import_root, app))
    return layouts


def detect(root: Path, package: str | None = None) -> Layout:
    """The project's package and app module, or LayoutError saying what is missing."""
    if package is not None:
        named = _named(root, package)
        if not named:
            raise LayoutError(
                f"no package {package!r} in {root} or {root / 'src'}: check the name given to "
                "--package"
            )
        found = _with_app(root, named)
        if found:
            return found[0]
        tried = ", ".join(str(c[1].relative_to(root)) for c in named)
        raise LayoutError(
            f"no module in {tried} creates a FastAPI(...) app: create one (app = FastAPI()) "
            "or pass --package NAME for the package that does"
        )
    conventional = _conventional(root)
    for candidate in conventional:
        found = _with_app(root, [candidate])
        if found:
            return found[0]
    others = [c for c in _discoverable(root) if c not in conventional]
    found = _with_app(root, others)
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(f"{f.package} ({f.app.path.relative_to(root).as_posix()})" for f in found)
        raise LayoutError(
            f"several packages create a FastAPI(...) app: {names}; pass --package NAME for the "
            "one to scaffold into"
        )
    searched = [c[1].relative_to(root).as_posix() for c in conventional + others]
    if not searched:
        raise LayoutError(
            f"no FastAPI project layout in {root}: expected an app/ package, src/<package>/, "
            "a package named in pyproject.toml, or a top-level package whose module creates "
            "FastAPI(); run from the project folder or pass --package NAME"
        )
    raise LayoutError(
        f"no module in {', '.join(searched)} creates a FastAPI(...) app: create one "
        "(app = FastAPI()) or pass --package NAME for the package that does"
    )
