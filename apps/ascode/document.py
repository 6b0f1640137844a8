"""The files as one document: read (one file or a folder of *.yml/*.yaml files), checked against the JSON
Schema, merged, and checked for unique names and references. Every problem names its file, line and field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from apps.ascode.schema import document_schema
from apps.ascode.yamlio import MarkedDict, MarkedList, YamlError, load
from apps.connections.sources.registry import SOURCE_TYPES

KINDS = ("sources", "destinations", "models", "syncs")
_SECRET_NAMES = frozenset().union(*(t.secret_field_names for t in SOURCE_TYPES.values()))
SINGULAR = {"sources": "source", "destinations": "destination", "models": "model", "syncs": "sync"}


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class DocumentInvalid(Exception):
    def __init__(self, problems: Iterable[FileProblem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


def path_text(path: Iterable[str | int]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def locate(node: Any, path: Iterable[str | int]) -> int | None:
    """The line of the deepest part of `path` found under a marked mapping or list."""
    line = getattr(node, "line", None)
    for key in path:
        in_mapping = isinstance(node, MarkedDict) and isinstance(key, str) and key in node
        in_list = isinstance(node, MarkedList) and isinstance(key, int) and 0 <= key < len(node)
        if not (in_mapping or in_list):
            break
        line, node = node.line_of(key), node[key]
    return line


def object_problem(kind: str, data: MarkedDict, path: tuple[str | int, ...], message: str) -> FileProblem:
    """A problem about one object of the document (`path` inside it)."""
    label = f"{SINGULAR[kind]} “{data.get('name')}”"
    inside = path_text(path)
    return FileProblem(data.file, locate(data, path), f"{label}, {inside}" if inside else label, message)


@dataclass
class Document:
    files: list[str]
    workspace: str | None = None
    objects: dict[str, dict[str, MarkedDict]] = field(default_factory=lambda: {k: {} for k in KINDS})
    alerts: MarkedDict | None = None


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(document_schema())


def read(path: Path) -> Document:
    """Read and check the files at `path`; raises DocumentInvalid with every problem found."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".yml", ".yaml"))
        if not files:
            raise DocumentInvalid([FileProblem(str(path), None, "", "has no .yml or .yaml file")])
    elif path.exists():
        files = [path]
    else:
        raise DocumentInvalid([FileProblem(str(path), None, "", "does not exist")])
    problems: list[FileProblem] = []
    contents = []
    for file in files:
        label = str(file)
        try:
            content = load(file, label)
        except YamlError as error:
            problems.append(FileProblem(error.file, error.line, "", error.message))
            continue
        if not isinstance(content, MarkedDict):
            problems.append(
                FileProblem(label, None, "", "must be a mapping that starts with `version: syncline/v1`")
            )
            continue
        problems += schema_problems(content)
        contents.append(content)
    if problems:
        raise DocumentInvalid(problems)
    document = _merge([str(f) for f in files], contents)
    reference_problems = _references(document)
    if reference_problems:
        raise DocumentInvalid(reference_problems)
    return document


def schema_problems(content: MarkedDict) -> list[FileProblem]:
    problems = []
    for error in _validator().iter_errors(content):
        path = list(error.absolute_path)
        message, extra = _message(error)
        path += extra
        problems.append(FileProblem(content.file, locate(content, path), _field(content, path), message))
    return problems


def _field(content: MarkedDict, path: list[str | int]) -> str:
    if len(path) >= 2 and path[0] in KINDS and isinstance(path[1], int):
        items = content.get(path[0])
        item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            rest = path_text(path[2:])
            label = f"{SINGULAR[str(path[0])]} “{item['name']}”"
            return f"{label}, {rest}" if rest else label
    return path_text(path)


def _message(error: ValidationError) -> tuple[str, list[str | int]]:
    """The schema error in words, and the key it is about when that is more precise than its path."""
    schema, instance = error.schema, error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict) and isinstance(schema, dict):
        allowed = list(schema.get("properties", {}))
        unexpected = [key for key in instance if key not in allowed]
        if unexpected and unexpected[0] in _SECRET_NAMES and list(error.absolute_path)[-1:] == ["config"]:
            message = (
                f"“{unexpected[0]}” is a secret: never write it in a file. Name an environment variable "
                f"under credentials (`{unexpected[0]}: {{env: VARIABLE}}`), or keep the dashboard's (`from: dashboard`)"
            )
            return message, [unexpected[0]]
        if unexpected:
            expected = ", ".join(allowed) if allowed else "nothing"
            return f"“{unexpected[0]}” is not expected here (expected: {expected})", [unexpected[0]]
    if error.validator == "not" and error.validator_value == {}:  # ruled out by another key (sql beside dbt)
        return "is not expected beside `dbt` (a dbt model's SQL and source are its relation's)", []
    if error.validator == "required" and isinstance(instance, dict):
        missing = next(
            (key for key in error.validator_value if key not in instance and repr(key) in error.message), None
        )
        return (f"“{missing}” is required" if missing else error.message), []
    if error.validator == "enum":
        choices = ", ".join(str(v) for v in error.validator_value)
        return f"{instance!r} is not one of: {choices}", []
    if error.validator == "const":
        return f"must be {error.validator_value!r}, not {instance!r}", []
    if error.validator == "type":
        return f"must be of type {error.validator_value}, not {type(instance).__name__} ({instance!r})", []
    if error.validator == "pattern" and isinstance(instance, str) and "\\S" in str(error.validator_value):
        return "must not be empty nor start or end with spaces", []
    if error.validator == "pattern" and isinstance(schema, dict) and schema.get("description"):
        return f"{instance!r} is not in the form {schema['description']}", []
    if error.validator == "oneOf" and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return _message(best)
    return error.message, []


def _merge(files: list[str], contents: list[MarkedDict]) -> Document:
    document = Document(files=files)
    problems: list[FileProblem] = []
    connections: dict[str, MarkedDict] = {}  # sources and destinations share one set of names
    for content in contents:
        workspace = content.get("workspace")
        if workspace is not None:
            if document.workspace not in (None, workspace):
                message = f"names workspace “{workspace}”, another file “{document.workspace}”"
                problems.append(FileProblem(content.file, content.line_of("workspace"), "workspace", message))
            document.workspace = workspace
        if "alerts" in content:
            if document.alerts is not None:
                message = f"is also given in {document.alerts.file}:{document.alerts.line}"
                problems.append(FileProblem(content.file, content.line_of("alerts"), "alerts", message))
            document.alerts = content["alerts"]
        for kind in KINDS:
            for item in content.get(kind) or ():
                name = item["name"]
                seen = connections if kind in ("sources", "destinations") else document.objects[kind]
                if name in seen:
                    other = seen[name]
                    problems.append(
                        object_problem(
                            kind, item, ("name",), f"is also the name at {other.file}:{other.line}"
                        )
                    )
                    continue
                seen[name] = item
                document.objects[kind][name] = item
    if problems:
        raise DocumentInvalid(problems)
    return document


def _references(document: Document) -> list[FileProblem]:
    problems = []
    objects = document.objects

    def need(kind: str, item: MarkedDict, path: tuple[str | int, ...], name: Any, target: str) -> None:
        if name not in objects[target]:
            known = ", ".join(f"“{n}”" for n in sorted(objects[target])) or "none"
            message = f"there is no {SINGULAR[target]} “{name}” in these files (there are: {known})"
            problems.append(object_problem(kind, item, path, message))

    for item in objects["models"].values():
        if "dbt" in item:
            need("models", item, ("dbt", "project"), item["dbt"]["project"], "sources")
        else:
            need("models", item, ("source",), item["source"], "sources")
    for item in objects["syncs"].values():
        need("syncs", item, ("model",), item["model"], "models")
        need("syncs", item, ("destination",), item["destination"], "destinations")
        after = (item.get("schedule") or {}).get("after")
        if after is not None:
            need("syncs", item, ("schedule", "after"), after, "syncs")
    return problems
