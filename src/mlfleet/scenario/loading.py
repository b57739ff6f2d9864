"""Loading a scenario from a file, a bundled example or text, and turning every failure
into one :class:`~mlfleet.errors.ScenarioError` line (``FILE:LINE: field: value is not
allowed; must be ...``).
"""

from __future__ import annotations

import difflib
import os
import reprlib
import sys
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from mlfleet.errors import ScenarioError, one_line
from mlfleet.scenario.parsers import (
    _INPUT,
    _MISSING,
    _PLAIN_KEY,
    DEFAULT_SCENARIO,
    MAX_FILE_BYTES,
    _Invalid,
)
from mlfleet.scenario.specs import (
    ClusterSpec,
    Scenario,
    _fields,
)

# ---------------------------------------------------------------------------------------------
# Loading, and turning every failure into one ScenarioError line.


def load_scenario(source: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a file path, a bundled example's name (``"llm-pretraining"``) or,
    when ``source`` is a str holding a newline or starting with ``{``, from YAML text.

    Raises ScenarioError (one line) for any defect: missing file, bad YAML, bad field.
    """
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return loads_scenario(source)
    if not isinstance(source, str | os.PathLike):
        raise ScenarioError(f"{source!r} is not a scenario path or YAML text")
    path = Path(source)
    bundled = {p.stem: p for p in bundled_scenarios()}
    if isinstance(source, str) and source in bundled and not _exists(path):
        path = bundled[source]
    return loads_scenario(_read(path, bundled), source=str(path))


def loads_scenario(text: str, *, source: str = "<string>") -> Scenario:
    """Parse and validate scenario YAML text; ``source`` names it in error messages."""
    if not isinstance(text, str):
        raise ScenarioError(f"{source}: scenario text must be a str, not {type(text).__name__}")
    node, raw = _parse_yaml(text, source)
    return _validate(raw, source=source, node=node)


def parse_scenario(raw: Any, *, source: str | None = None) -> Scenario:
    """Validate an already-parsed scenario (a mapping, as from ``yaml.safe_load``)."""
    return _validate(raw, source=source, node=None)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the scenario file format."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlfleet scenario"
    cluster = schema["properties"]["cluster"]
    schema["properties"]["cluster"] = {
        "anyOf": [{"type": "string", "description": "a catalog cluster name"},
                  {"$ref": cluster.get("$ref", "#/$defs/ClusterSpec")}],
        "description": cluster.get("description", ""),
    }
    return schema


def bundled_scenarios() -> list[Path]:
    """The example scenarios shipped with mlfleet, sorted by file name."""
    folder = resources.files("mlfleet").joinpath("examples")
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".yaml"))


def default_scenario_path() -> Path:
    """The scenario `mlfleet plan` runs without an argument (LLM pretraining at scale)."""
    return Path(str(resources.files("mlfleet").joinpath("examples", DEFAULT_SCENARIO + ".yaml")))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _read(path: Path, bundled: Mapping[str, Path]) -> str:
    try:
        if not path.is_file():
            what = "is not a regular file" if _exists(path) else "does not exist"
            names = ", ".join(bundled) or "none"
            raise ScenarioError(f"scenario file {str(path)!r} {what}; give a YAML file or a "
                                f"bundled example ({names})")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a scenario")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text; a scenario is a YAML file") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(f"cannot read scenario file {str(path)!r}: {reason}") from None


def read_stdin() -> str:
    """Scenario text from standard input (for ``mlfleet scenario check -`` and ``plan -``)."""
    try:
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:  # a text-only stream (tests swap sys.stdin for a StringIO)
            return sys.stdin.read(MAX_FILE_BYTES + 1)
        return bytes(buffer.read(MAX_FILE_BYTES + 1)).decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("<stdin>: not UTF-8 text; a scenario is a YAML file") from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"cannot read a scenario from stdin: {exc}") from None


# libyaml's parser when PyYAML was built with it (about 10x faster), else the pure-Python one.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc]  # libyaml's loader is untyped
    """SafeLoader that rejects duplicate keys (a silently ignored ``gpus:`` is a classic bug)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark)
                seen.add(key_node.value)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _parse_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"{source}: larger than {MAX_FILE_BYTES:,} characters; not a scenario")
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.reader.ReaderError as exc:
        raise ScenarioError(f"{source}: invalid YAML: character {chr(exc.character)!r} at "
                            f"position {exc.position} is not allowed in YAML") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = exc.problem or exc.context
        raise ScenarioError(one_line(f"{where}: invalid YAML: {problem}")) from None
    except RecursionError:
        raise ScenarioError(f"{source}: invalid YAML: nested too deeply") from None
    except Exception as exc:  # PyYAML's constructors raise assorted built-ins on bad tagged scalars
        problem = f"{type(exc).__name__}: {exc}"
        raise ScenarioError(one_line(f"{source}: invalid YAML: {problem}")) from None
    finally:
        if loader is not None:
            loader.dispose()


def _validate(raw: Any, *, source: str | None, node: yaml.Node | None) -> Scenario:
    prefix = f"{source}: " if source else ""
    if raw is None:
        raise ScenarioError(f"{prefix}empty scenario; expected a mapping with fields "
                            f"{_fields(Scenario)}")
    if not isinstance(raw, dict):
        raise ScenarioError(f"{prefix}top level: {_render(raw)} is not allowed; must be a mapping "
                            f"with fields {_fields(Scenario)}")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        lines = [_located(error, source=source, node=node)
                 for error in exc.errors(include_url=False)]
        raise _every_error(lines) from None
    except RecursionError:
        raise ScenarioError(f"{prefix}scenario nested too deeply") from None


def _located(error: Mapping[str, Any], *, source: str | None, node: yaml.Node | None) -> str:
    """One pydantic error as one line: ``FILE:LINE: field: message``."""
    loc, message = _describe(error)
    line = _line_of(node, loc)
    where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
    return one_line(f"{where}{message}")


def _every_error(lines: list[str]) -> ScenarioError:
    """One error carrying every defect: the CLI prints one line each; ``str()`` joins them
    with `` | `` so Python callers see them all on one line too."""
    error = ScenarioError(" | ".join(lines))
    error.details = tuple(lines) if len(lines) > 1 else ()
    return error


def _describe(error: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
    """(location, one-line message) for one pydantic error."""
    loc, kind = tuple(error["loc"]), error["type"]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, _Invalid):
        loc = loc + cause.path
        value = error.get("input") if cause.value is _INPUT else cause.value
        if cause.verbatim:
            return loc, f"{_dotted(loc)}: {cause.allowed}"
        if value is _MISSING:
            return loc, f"{_dotted(loc)}: missing; {cause.allowed}"
        return loc, f"{_dotted(loc)}: {_render(value)} is not allowed; {cause.allowed}"
    if kind == "missing":
        return loc, f"{_dotted(loc)}: missing; required: {_description(loc)}"
    if kind in ("extra_forbidden", "invalid_key"):
        return loc, f"{_dotted(loc)}: unknown field is not allowed; {_known_fields(loc)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(loc)
        fields = f" with fields {_fields(model)}" if model else ""
        value = _render(error.get("input"))
        return loc, f"{_dotted(loc)}: {value} is not allowed; must be a mapping{fields}"
    return loc, f"{_dotted(loc)}: {_render(error.get('input'))} is not allowed; {error['msg']}"


def _dotted(loc: tuple[Any, ...]) -> str:
    """``serving.slo.p99_s``; a key that is not a plain word is quoted (``'my key'``)."""
    parts = [part if isinstance(part, str) and _PLAIN_KEY.fullmatch(part) else repr(part)
             for part in loc]
    return ".".join(parts) or "top level"


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 60, 60, 2, 4, 4


def _render(value: Any) -> str:
    """A short one-line rendering of a bad value, YAML-flavoured for scalars."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"{float(value):.3e}" if abs(value) < 10**300 else "a huge integer"
    try:
        return _REPR.repr(value)
    except ValueError:  # ints beyond Python's int-to-str digit limit, nested in a container
        return f"a {type(value).__name__}"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Scenario
    for key in loc:
        field = model.model_fields.get(key) if model and isinstance(key, str) else None
        if field is None:
            return None
        model = next((t for t in (field.annotation, *typing.get_args(field.annotation))
                      if isinstance(t, type) and issubclass(t, BaseModel)), None)
    return model


def _description(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc[:-1])
    field = model.model_fields.get(loc[-1]) if model and loc else None
    text = field.description if field and field.description else "see `mlfleet scenario schema`"
    text = text[:1].lower() + text[1:].rstrip(".")
    if model is ClusterSpec:
        text += " (taken from the catalog cluster when cluster.name is given)"
    return text


def _known_fields(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return "see `mlfleet scenario schema`"
    near = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? " if near else ""
    section = f"{_dotted(loc[:-1])} has" if loc[:-1] else "allowed at the top level are"
    return f"{hint}{section} fields {_fields(model)}"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc`` (the bad key or value)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(key)), None)
        if match is None:
            break
        line = match[0].start_mark.line + 1
        node = match[1]
        if not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1
    return line
