"""Rewrite the assets' `app` imports for the user's package, and derive the app's new lines."""

import ast
import io
import textwrap
import tokenize
from collections.abc import Collection, Sequence
from dataclasses import dataclass

ASSET_PACKAGE = "app"
ASSET_APP_MODULE = "app.main"


@dataclass(frozen=True)
class Target:
    package: str
    # the user's module and variable holding the FastAPI app
    app_module: str
    app_variable: str


def _new_module(module: str, target: Target) -> str:
    if module == ASSET_APP_MODULE:
        return target.app_module
    return target.package + module[len(ASSET_PACKAGE) :]


def _dotted(tokens: list[tokenize.TokenInfo], start: int) -> int:
    """Index just past the dotted name that starts at tokens[start]."""
    end = start + 1
    while (
        end + 1 < len(tokens)
        and tokens[end].string == "."
        and tokens[end + 1].type == tokenize.NAME
    ):
        end += 2
    return end


def rewrite_imports(source: str, target: Target) -> str:
    """Point `from app.x import ...` and `import app.x` at the user's package.

    `from app.main import app` becomes an import of the user's own app module and variable.
    Only import statements change; comments and strings stay as written.
    """
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in (tokenize.COMMENT, tokenize.NL)
    ]
    edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    starts = {0} | {
        i + 1
        for i, t in enumerate(tokens)
        if t.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    }
    for i in sorted(starts):
        if i >= len(tokens) or tokens[i].type != tokenize.NAME:
            continue
        keyword = tokens[i].string
        heads = []
        if keyword == "from":
            heads = [i + 1]
        elif keyword == "import":
            j = i + 1
            while j < len(tokens) and tokens[j].type == tokenize.NAME:
                heads.append(j)
                j = _dotted(tokens, j)
                if j < len(tokens) and tokens[j].string == "as":
                    j += 2
                if j >= len(tokens) or tokens[j].string != ",":
                    break
                j += 1
        for head in heads:
            if tokens[head].string != ASSET_PACKAGE:
                continue
            end = _dotted(tokens, head)
            module = "".join(t.string for t in tokens[head:end])
            edits.append((tokens[head].start, tokens[end - 1].end, _new_module(module, target)))
            if keyword == "from" and module == ASSET_APP_MODULE:
                edits.extend(_app_name_edits(tokens, end, target))
    lines = source.splitlines(keepends=True)
    for (row, col), (end_row, end_col), text in sorted(edits, reverse=True):
        assert row == end_row, "a dotted module name spans one line"
        line = lines[row - 1]
        lines[row - 1] = line[:col] + text + line[end_col:]
    return "".join(lines)


def _app_name_edits(
    tokens: list[tokenize.TokenInfo], start: int, target: Target
) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
    """In `from app.main import app`, import the user's variable under the name `app`."""
    if target.app_variable == "app":
        return []
    edits = []
    j = start + 1
    while j < len(tokens) and tokens[j].type != tokenize.NEWLINE:
        token = tokens[j]
        if token.type == tokenize.NAME and token.string == "app" and tokens[j - 1].string != "as":
            aliased = j + 1 < len(tokens) and tokens[j + 1].string == "as"
            text = target.app_variable if aliased else f"{target.app_variable} as app"
            edits.append((token.start, token.end, text))
        j += 1
    return edits


@dataclass(frozen=True)
class AppChanges:
    """What the user's app module needs, derived from the asset app's main.py."""

    imports: str
    # the lifespan function to define above the app, when the app has none
    lifespan: str
    app_argument: str
    # the lines to put after `yield` in the app's existing lifespan, when it has one
    lifespan_merge: str
    after_app: str
    # what the app module has already, one line each (an earlier run's lines, applied)
    done: str = ""


# the error handlers' installer: the name the assets give it, and the shorter one it may have
ERROR_HANDLERS = {"add_database_error_handlers", "add_error_handlers"}


def _call_key(node: ast.AST) -> tuple[str, str] | None:
    """What identifies a call among the app's lines: include_router(health.router) by its
    router, the error handlers' installer whatever its name, any other call by its name."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if not isinstance(name, str):
        return None
    if name in ERROR_HANDLERS:
        return ("error handlers", "")
    if name == "include_router" and node.args:
        return (name, ast.unparse(node.args[0]))
    return (name, "")


def _user_calls(tree: ast.Module | None) -> set[tuple[str, str]]:
    if tree is None:
        return set()
    return {key for node in ast.walk(tree) if (key := _call_key(node)) is not None}


def _disposes_engine(tree: ast.Module | None) -> bool:
    """Whether the module calls engine.dispose() (in its lifespan, after the yield)."""
    return tree is not None and any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "dispose"
        and ast.unparse(node.func.value).split(".")[-1] == "engine"
        for node in ast.walk(tree)
    )


def _segment(lines: list[str], node: ast.stmt) -> str:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return "".join(lines[first - 1 : node.end_lineno])


def _rename(text: str, old: str, new: str) -> str:
    """Rename the variable old to new in a snippet of statements (names only, not attributes)."""
    if old == new:
        return text
    lines = text.splitlines(keepends=True)
    names = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name) and n.id == old]
    for node in sorted(names, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        line = lines[node.lineno - 1]
        lines[node.lineno - 1] = line[: node.col_offset] + new + line[node.end_col_offset :]
    return "".join(lines)


def _used_names(nodes: Sequence[ast.stmt]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


def app_changes(
    asset_main: str,
    user_source: str,
    target: Target,
    has_lifespan: bool,
    dropped: set[str],
    factory: tuple[str, str] | None = None,
) -> AppChanges:
    """The imports, lifespan and statements of asset_main the user's app module lacks.

    dropped: names of asset modules not copied (the example routes with --no-examples); the
    statements that use them are left out. factory: (variable, indentation) when the app is
    built inside a function: the statements then use its local variable, indented to go in it.
    """
    tree = ast.parse(asset_main)
    lines = asset_main.splitlines(keepends=True)
    app_index, app_var, lifespan_name = next(
        (i, node.targets[0].id, _lifespan_name(node.value))
        for i, node in enumerate(tree.body)
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value.func) == "FastAPI"
    )
    try:
        user_tree: ast.Module | None = ast.parse(user_source)
    except SyntaxError:
        user_tree = None
    present = _user_calls(user_tree)
    after: list[ast.stmt] = []
    done: list[str] = []
    for node in tree.body[app_index + 1 :]:
        if _used_names([node]) & dropped:
            continue
        key = _call_key(node.value) if isinstance(node, ast.Expr) else None
        if key is not None and key in present:
            done.append(ast.unparse(node))
        else:
            after.append(node)
    lifespan_def = next(
        n
        for n in tree.body
        if isinstance(n, ast.AsyncFunctionDef | ast.FunctionDef) and n.name == lifespan_name
    )
    yield_at = next(
        i
        for i, stmt in enumerate(lifespan_def.body)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Yield | ast.YieldFrom)
    )
    tail = lifespan_def.body[yield_at + 1 :]
    merge = ""
    if has_lifespan and _disposes_engine(user_tree):
        tail = []
        done.insert(0, "await engine.dispose()  # in the lifespan")
    if tail:
        start = lifespan_def.body[yield_at].end_lineno or 0
        merge = textwrap.dedent("".join(lines[start : lifespan_def.end_lineno]))
    used = _used_names(after + (tail if has_lifespan else [lifespan_def]))
    imports = needed_imports(tree, used, target, _imported(user_source))
    app_name, indent = factory or (target.app_variable, "")
    after_app = _rename(_join(lines, after), app_var, app_name)
    return AppChanges(
        imports=imports,
        lifespan="" if has_lifespan else _segment(lines, lifespan_def),
        app_argument="" if has_lifespan else f"lifespan={lifespan_name}",
        lifespan_merge=merge if has_lifespan else "",
        after_app=textwrap.indent(after_app, indent) if indent else after_app,
        done="".join(f"{_rename(line, app_var, app_name)}\n" for line in done),
    )


def needed_imports(
    tree: ast.Module,
    used: set[str],
    target: Target,
    present: Collection[tuple[str | None, str, str | None]] = (),
) -> str:
    """The module's imports of the names in used, pointed at the user's package, in the
    module's groups; those in present (module, name, alias) are left out."""
    imports: list[str] = []
    previous_end = 0
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            # a blank line in the asset separates import groups (stdlib, libraries, the app)
            if imports and node.lineno > previous_end + 1 and imports[-1] != "\n":
                imports.append("\n")
            previous_end = node.end_lineno or node.lineno
            keep = [a for a in node.names if (a.asname or a.name).split(".")[0] in used]
            module = getattr(node, "module", None)
            if module and module.split(".")[0] == ASSET_PACKAGE:
                module = _new_module(module, target)
            keep = [a for a in keep if (module, a.name, a.asname) not in present]
            if keep:
                node.names = keep
                imports.append(rewrite_imports(ast.unparse(node) + "\n", target))
    return "".join(imports).strip("\n") + "\n" if imports else ""


def helpers_only(source: str, target: Target, docstring: str) -> str:
    """A module cut down to its top-level functions and the imports they use, under a new
    docstring: what every model's code needs of an example module."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    imports = needed_imports(tree, _used_names(functions), target)
    body = "\n\n".join(_segment(lines, node) for node in functions)
    return f'"""{docstring}"""\n\n{imports}\n\n{body}'


def _join(lines: list[str], nodes: list[ast.stmt]) -> str:
    """The statements' source; definitions set apart by blank lines, as ruff formats them."""
    parts: list[str] = []
    previous_def = False
    for node in nodes:
        is_def = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if parts and (is_def or previous_def):
            parts.append("\n\n")
        parts.append(_segment(lines, node))
        previous_def = is_def
    return "".join(parts)


def _lifespan_name(call: ast.Call) -> str:
    return next(ast.unparse(k.value) for k in call.keywords if k.arg == "lifespan")


def _imported(source: str) -> set[tuple[str | None, str, str | None]]:
    """(module, name, alias) of every import in source, module None for `import x`."""
    found: set[tuple[str | None, str, str | None]] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found |= {(node.module, a.name, a.asname) for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {(None, a.name, a.asname) for a in node.names}
    return found


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement in body, nested ones too."""
    found = []
    for node in body:
        found.append(node)
        for name in ("body", "orelse", "finalbody", "handlers"):
            found.extend(_statements(getattr(node, name, [])))
    return found


def _is_dropped(node: ast.stmt, names: Collection[str], words: Collection[str]) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name in names
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Name) and t.id in names for t in targets)
    if isinstance(node, ast.Try):
        # a guarded import of what is left out
        return any(
            isinstance(n, ast.Import | ast.ImportFrom) and any(w in ast.unparse(n) for w in words)
            for n in ast.walk(node)
        )
    return isinstance(node, ast.Expr) and any(w in ast.unparse(node) for w in words)


def without(source: str, names: Collection[str], words: Collection[str] = ()) -> str:
    """source less its definitions of names, its statements that mention one of words (a
    try: guarding their import included), and the imports nothing uses any more."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for node in _statements(tree.body):
        if _is_dropped(node, names, words):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            # the comment lines just above it go too
            while first > 1 and lines[first - 2].strip().startswith("#"):
                first -= 1
            drop.update(range(first, (node.end_lineno or node.lineno) + 1))
    kept = [line if i not in drop else None for i, line in enumerate(lines, 1)]
    text = "".join(line for line in kept if line is not None)
    return _prune_imports(text)


def _prune_imports(source: str) -> str:
    """Drop the names a module's top-level imports bring in but nothing uses."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    used = _used_names([n for n in tree.body if n not in imports]) | {
        n.value.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    for node in reversed(imports):
        keep = [a for a in node.names if (a.asname or a.name).split(".")[0] in used]
        # import x  # noqa: F401 imports for its side effect: kept
        if len(keep) == len(node.names) or "noqa" in lines[node.lineno - 1]:
            continue
        start, end = node.lineno - 1, node.end_lineno or node.lineno
        if keep:
            node.names = keep
            lines[start:end] = [ast.unparse(node) + "\n"]
        else:
            lines[start:end] = []
    text = "".join(lines)
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text
