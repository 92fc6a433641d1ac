"""The app's settings as the app reads them: the project's own settings class when it has one
(<package>/db/config.py), else the skill's (assets/app/db/config.py), loaded inside the project's
folder so that ./.env is the file the app reads. pydantic-settings parses both the environment and
.env, so quoting, `export` and inline comments follow one set of rules everywhere."""

import contextlib
import importlib.util
import itertools
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from _lib import ASSETS
from _lib.urls import mask

SKILL_CONFIG = ASSETS / "app" / "db" / "config.py"
CLASS_NAME = "DatabaseSettings"
# what a settings module needs installed: without them, check_db says so instead of reading
LIBRARIES = {"pydantic", "pydantic_settings", "sqlalchemy"}
_loaded = itertools.count()


@dataclass
class AppSettings:
    """What the app would read; `problem` says why it could not be read at all."""

    # the settings class's file, as shown: "shop/db/config.py" or the skill's copy
    origin: str
    # the validated settings, URLs masked; None when they do not load
    values: dict[str, Any] | None = None
    # why they do not load, and the fix: the app's own one-line error first, when it has one
    error: str | None = None
    # DATABASE_URL as read (the environment over .env), before validation; None when unset
    raw_url: str | None = None
    # where raw_url came from: "DATABASE_URL" or "DATABASE_URL in /path/.env"
    url_from: str | None = None
    default_url: str | None = None
    # every URL read, to mask in the output
    secrets: list[str] = field(default_factory=list)
    problem: str | None = None


def url_layer(project: Path) -> Path | None:
    """The project's <package>/db/urls.py when it turns a provider's URL (postgres://, sslmode=)
    into asyncpg's arguments, as the skill's does; None when the app takes URLs as they are."""
    found = find_config(project)
    if found is None:
        return None
    urls = found[0].parent / "urls.py"
    try:
        return urls if "def asyncpg_url(" in urls.read_text(encoding="utf-8") else None
    except (OSError, UnicodeDecodeError):
        return None


def find_config(project: Path) -> tuple[Path, Path] | None:
    """(<package>/db/config.py, the folder to import it from) of the project, if it has one."""
    for base in (project, project / "src"):
        configs = sorted(base.glob("*/db/config.py"))
        if configs:
            return configs[0], base
    return None


@contextlib.contextmanager
def inside(project: Path, import_root: Path) -> Iterator[None]:
    """The project as working directory and import root, as when the app starts there."""
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    os.chdir(project)
    sys.path.insert(0, str(import_root))
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path


def import_file(path: Path) -> ModuleType:
    # a name of its own, so that each run reads the file afresh and no app module is replaced
    name = f"_check_db_settings_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def _settings_class(module: ModuleType) -> Any:
    from pydantic_settings import BaseSettings

    found = getattr(module, CLASS_NAME, None)
    if isinstance(found, type) and issubclass(found, BaseSettings):
        return found
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, BaseSettings)
            and value.__module__ == module.__name__
        ):
            return value
    return None


def _one_line(exc: Exception) -> str:
    """The error as the app's load() words it; a pydantic error without ever its input."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = str(first["loc"][0]).upper() + ": " if first.get("loc") else ""
        return where + str(first["msg"]).removeprefix("Value error, ")
    return " ".join(str(exc).split())


def _read(cls: Any, project: Path, origin: str) -> AppSettings:
    from pydantic_settings import DotEnvSettingsSource, EnvSettingsSource

    result = AppSettings(origin)
    url_field = cls.model_fields.get("database_url")
    result.default_url = url_field.default if url_field is not None else None
    try:
        settings = cls.load() if hasattr(cls, "load") else cls()
    except OSError as exc:
        result.error = f"cannot read {project / '.env'}: {exc.strerror or type(exc).__name__}"
        return result
    except ValueError as exc:
        result.error = (
            f"{_one_line(exc)}: the app would not start; fix it in the environment or "
            f"{project / '.env'} (read by {origin})"
        )
    else:
        values = settings.model_dump(mode="json")
        result.secrets = [v for k, v in values.items() if k.endswith("_url") and v]
        result.values = {
            key: mask(value) if key.endswith("_url") and isinstance(value, str) else value
            for key, value in values.items()
        }
    # the raw values, by the class's own sources: a URL the class refuses is still diagnosed
    env_file = Path(str(cls.model_config.get("env_file") or ".env"))
    for source, where in (
        (DotEnvSettingsSource, f"DATABASE_URL in {project / env_file}"),
        (EnvSettingsSource, "DATABASE_URL"),
    ):
        try:
            raw = source(cls)().get("database_url")
        except Exception:  # a value the source cannot decode: load() reported it
            continue
        if isinstance(raw, str):
            result.raw_url, result.url_from = raw, where
    result.secrets += [result.raw_url] if result.raw_url else []
    return result


def load(project: Path) -> AppSettings:
    """Read the app's settings from the project folder: environment, then ./.env, then defaults."""
    found = find_config(project)
    config, import_root = found if found else (SKILL_CONFIG, project)
    origin = (
        config.relative_to(project).as_posix()
        if found
        else "the skill's assets/app/db/config.py (the project has no <package>/db/config.py)"
    )
    with inside(project, import_root):
        try:
            module = import_file(config)
            cls = _settings_class(module)
        except ImportError as exc:
            if (exc.name or "").split(".")[0] in LIBRARIES:
                return AppSettings(origin, problem=f"{exc.name} is not installed (see installed)")
            broken = _one_line(exc)
        except Exception as exc:
            broken = f"{type(exc).__name__}: {_one_line(exc)}"
        else:
            if cls is not None:
                return _read(cls, project, origin)
            broken = "it defines no pydantic-settings class"
        return AppSettings(
            origin, error=f"cannot import {origin}: {broken}: the app would not start either"
        )
        return _read(cls, project, origin)
