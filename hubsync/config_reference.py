"""The configuration reference: every key of the config schema, its type, default and meaning, as Markdown.

The keys, types and defaults come from the schema (`settings.HubsyncConfig`, with the scoring model); the meaning of
each key comes from the comment above it in `config/hubsync.toml`. The README carries the result between two
markers, and a test checks that it is current and that no key lacks its comment:
`python scripts/config_reference.py --write` regenerates it.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from hubsync.settings import HubsyncConfig

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"
_KEY_LINE = re.compile(r"^#?\s*([a-z_][a-z0-9_]*)\s*=")
_GLOSSARY_LINE = re.compile(r"^#\s{2,}([a-z_][a-z0-9_]*(?:\s*/\s*[a-z_][a-z0-9_]*)*)\s{2,}(\S.*)$")
_MENTION = re.compile(r"`([a-z_][a-z0-9_]*)\b")
_RULER = re.compile(r"[-=]{3,}")
_TABLE_LINE = re.compile(r"^\[\[?([a-z_.]+)\]\]?")


@dataclass(frozen=True, slots=True)
class Key:
    path: str
    type: str
    default: str


def schema_keys(model: type[BaseModel] = HubsyncConfig, prefix: str = "") -> list[Key]:
    keys: list[Key] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        nested, many = _nested_model(field.annotation)
        if nested is not None:
            keys.extend(schema_keys(nested, f"{path}[]." if many else f"{path}."))
            continue
        keys.append(Key(path, _type_name(field.annotation), _default(field.default, field.default_factory)))
    return keys


def _nested_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the config model a field holds, whether it is a list of them)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _nested_model(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if origin is tuple:
        inner, _ = _nested_model(typing.get_args(annotation)[0])
        return inner, inner is not None
    return None, False


def _type_name(annotation: Any) -> str:  # noqa: PLR0911  (one answer per kind of annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(repr(a).replace("'", '"') for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + " (optional)"
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, str) and annotation is not str:
        return "string"  # constrained strings (enums, regular expressions) document their values in the TOML
    return {str: "string", int: "integer", float: "number", bool: "true/false"}.get(annotation, "string")


def _default(default: Any, factory: Any) -> str:  # noqa: PLR0911  (one answer per kind of default)
    if default is PydanticUndefined:
        return "(empty)" if factory is not None else "required"
    if default is None:
        return "not set"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple):
        return "[" + ", ".join(_default(v, None) for v in default) + "]"
    if isinstance(default, str):
        return f'"{default}"'
    if isinstance(default, BaseModel):
        return "see below"
    return str(getattr(default, "value", default))


def documented_keys(toml_text: str) -> dict[str, str]:
    """key path → its meaning, from the comments of the documented config file.

    Three conventions are read: the comment block right above a key or table (optional keys are documented
    commented out, `# daily_quota = 625000`); a key without one that its neighbour's or its table's comment names;
    and a glossary above a table (`#   points   points per matching activity`, continued on further-indented
    lines, or a key named in backticks) that documents keys of that table and of its sub-tables."""
    reader = _CommentReader(toml_text)
    for raw in toml_text.splitlines():
        reader.line(raw)
    general: dict[str, str] = {}
    for scope, terms in reader.glossaries:
        for term, text in terms.items():
            names = {name.strip() for name in term.split("/")}
            for key in _keys_under(scope):
                if key.rsplit(".", 1)[-1] in names:
                    general.setdefault(key, text)
    # In an array of tables the comment above a key belongs to one instance (one signal); the glossary is general.
    return {**reader.docs, **{k: v for k, v in general.items() if "[]" in k or k not in reader.docs}}


class _CommentReader:
    def __init__(self, toml_text: str) -> None:
        self.toml_text = toml_text
        self.docs: dict[str, str] = {}
        self.glossaries: list[tuple[str, dict[str, str]]] = []
        self.pending: dict[str, str] = {}
        self.table = ""
        self.table_text: dict[str, str] = {}
        self.nearby = ""
        self.comment: list[str] = []
        self.term: str | None = None

    def line(self, raw: str) -> None:
        line = raw.strip()
        if table := _TABLE_LINE.match(line):
            self._table(table.group(1))
        elif glossary := _GLOSSARY_LINE.match(raw):
            self.term = glossary.group(1)
            self.pending[self.term] = glossary.group(2).strip()
        elif key := _KEY_LINE.match(line):
            self._key(key.group(1))
        elif line.startswith("#"):
            self._comment(raw, line.lstrip("#").strip())
        else:
            self.comment, self.term = [], None

    def _table(self, name: str) -> None:
        self.table = _array_path(name, self.toml_text)
        if self.pending:
            self.glossaries.append((self.table, self.pending))
            self.pending = {}
        text = self._take_comment()
        if text:
            self.docs.setdefault(self.table, text)
            self.table_text[self.table] = text
        self.nearby = text

    def _key(self, name: str) -> None:
        path = f"{self.table}.{name}" if self.table else name
        text = self._take_comment()
        if text:
            self.docs.setdefault(path, text)
            self.nearby = text
        elif name in self.nearby:
            # Documented together with its neighbour ("… every `full_reconcile_days` days").
            self.docs.setdefault(path, self.nearby)
        elif name in self.table_text.get(self.table, ""):
            self.docs.setdefault(path, self.table_text[self.table])

    def _comment(self, raw: str, text: str) -> None:
        if self.term is not None and raw.startswith("#   ") and text:
            self.pending[self.term] += " " + text  # a glossary entry continued on the next, indented line
            return
        self.term = None
        if text and not _RULER.fullmatch(text):
            self.comment.append(text)
            # A key named in backticks in prose above a table is documented by that sentence.
            for name in _MENTION.findall(text):
                self.pending.setdefault(name, text)

    def _take_comment(self) -> str:
        text = " ".join(self.comment)
        self.comment, self.term = [], None
        return text


def _keys_under(scope: str) -> list[str]:
    return [k.path for k in schema_keys() if k.path.startswith(scope + ".")]


def _array_path(table: str, toml_text: str) -> str:
    parts = table.split(".")
    out = []
    for i, part in enumerate(parts):
        prefix = ".".join(parts[: i + 1])
        out.append(part + ("[]" if f"[[{prefix}]]" in toml_text else ""))
    return ".".join(out)


def reference(toml_text: str) -> str:
    docs = documented_keys(toml_text)
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key in schema_keys():
        meaning = docs.get(key.path, "").replace("|", r"\|")
        lines.append(f"| `{key.path}` | {key.type} | {key.default} | {meaning} |")
    return "\n".join(lines)


def undocumented(toml_text: str) -> list[str]:
    docs = documented_keys(toml_text)
    return [key.path for key in schema_keys() if key.path not in docs]


def readme_block(readme: str) -> str:
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].strip()


def with_reference(readme: str, toml_text: str) -> str:
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[:start] + "\n" + reference(toml_text) + "\n" + readme[end:]


def default_paths() -> tuple[Path, Path]:
    root = Path(__file__).resolve().parent.parent
    return root / "README.md", root / "config" / "hubsync.toml"
