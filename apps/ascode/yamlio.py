"""YAML in and out, with the line of every value.

PyYAML is read at the node level (`compose`), so every mapping and list built here remembers the file and
the line of each of its keys and items, and errors can say where the user made the mistake. Scalars are
resolved by YAML 1.2's core schema, not PyYAML's YAML 1.1 one: `yes`, `no`, `on`, `off`, `0x1`-free
sexagesimals like `09:00`, dates and `=` stay text, as today's editors and linters read them. Writing uses
the union of both schemas' rules, so a text that either could read as something else is quoted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

STR, NULL, BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
INT, FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
MAP, SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_CORE = [
    (NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), list("~nN") + [""]),
    (BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    (INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")),
    (
        FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+.0123456789"),
    ),
]
MAX_VALUES = 100_000  # aliases can multiply a small file into a huge document ("billion laughs")
MAX_DEPTH = 64


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers: dict = {}


for _tag, _pattern, _first in _CORE:
    _Loader.add_implicit_resolver(_tag, _pattern, _first)


class _Dumper(yaml.SafeDumper):
    yaml_implicit_resolvers = {
        key: list(value) for key, value in yaml.SafeDumper.yaml_implicit_resolvers.items()
    }


for _tag, _pattern, _first in _CORE:
    _Dumper.add_implicit_resolver(_tag, _pattern, _first)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # SQL keeps its lines
    return dumper.represent_scalar(STR, value, style=style)


_Dumper.add_representer(str, _represent_str)


class YamlError(Exception):
    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


class MarkedDict(dict):
    """A mapping read from a file: `file`, `line` (of the mapping) and `key_lines` (key → its line)."""

    file: str = ""
    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class MarkedList(list):
    file: str = ""
    line: int | None = None
    item_lines: list[int]

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


def load(path: Path, label: str) -> Any:
    """The file's content, its mappings and lists marked with their lines; raises YamlError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise YamlError(label, None, f"cannot be read: {error}") from None
    return loads(text, label)


def loads(text: str, label: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise YamlError(label, line, f"is not valid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise YamlError(label, None, f"is not valid YAML: {error}") from None
    finally:
        loader.dispose()
    if node is None:
        return None
    return _Builder(label).build(node, 0)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.count = 0

    def fail(self, node: yaml.Node, message: str) -> YamlError:
        return YamlError(self.file, node.start_mark.line + 1, message)

    def build(self, node: yaml.Node, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES or depth > MAX_DEPTH:
            raise self.fail(node, "is too large or too deeply nested (aliases?)")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != SEQ:
                raise self.fail(node, f"the tag {node.tag} is not supported here")
            items = MarkedList(self.build(item, depth + 1) for item in node.value)
            items.file, items.line = self.file, node.start_mark.line + 1
            items.item_lines = [item.start_mark.line + 1 for item in node.value]
            return items
        if node.tag != MAP:
            raise self.fail(node, f"the tag {node.tag} is not supported here")
        mapping = MarkedDict()
        mapping.file, mapping.line, mapping.key_lines = self.file, node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = self.build(key_node, depth + 1)
            if not isinstance(key, str):
                raise self.fail(key_node, f"a key must be text, not {key!r}")
            if key in mapping:
                raise self.fail(key_node, f"“{key}” is given twice in this mapping")
            mapping[key] = self.build(value_node, depth + 1)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def scalar(self, node: yaml.ScalarNode) -> Any:
        value, tag = node.value, node.tag
        if tag == STR:
            return value
        if tag == NULL:
            return None
        if tag == BOOL:
            return value.lower() == "true"
        if tag == INT:
            if value.startswith(("0x", "0o")):
                return int(value[2:], 16 if value[1] == "x" else 8)
            return int(value, 10)
        if tag == FLOAT:
            lowered = value.lower()
            if lowered.endswith((".inf", ".nan")):
                return float(lowered.replace(".", ""))
            return float(value)
        raise self.fail(node, f"the tag {tag} is not supported")


def dump(data: Any, *, header: str = "") -> str:
    """Deterministic YAML: keys in the order given, no line folding, unicode as is."""
    body = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False
    )
    return header + body
