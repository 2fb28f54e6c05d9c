"""JSONPath as ASL uses it: compile once, read (and for ResultPath, write) many times.

Most paths in real workflows are Reference Paths (``$.a.b[0]['c d']``); those compile to a
tuple of steps walked by a tight loop. Only wildcards, filters, slices, unions and recursive
descent go through jsonpath-ng, parsed once at compile time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import msgspec

from asw_airflow.semantics.errors import RUNTIME, ExpressionError, StatesError
from asw_airflow.semantics.scope import Scope

Step = str | int
"""A Reference Path step: a ``str`` is an object key, an ``int`` an array index."""

VALUE_ROOT = "$"
CONTEXT_ROOT = "$$"

_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"[^.\[\]()*?@,:'\"\s$]+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_MISSING = object()


def compact_json(value: Any) -> str:
    """JSON text the way AWS prints it in causes: no spaces, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ENCODE_UTF8 = msgspec.json.Encoder().encode


def json_size(value: Any) -> int:
    """UTF-8 bytes of ``value`` as compact JSON, what the payload limit counts (and every size bound).

    msgspec writes UTF-8 JSON in C, about 8x faster than ``json`` plus an encode, and states pay
    this per size check. It spells some floats its own way (``1e16`` for ``1e+16``, ``0.00001``
    for ``1e-05``); ASW's Java runtime spells them differently again. What msgspec does not take
    goes to ``json``, which raises for what is not JSON at all; a lone surrogate (JSON may
    escape one, ``"\ud800"``) counts the three bytes Java would write for it.
    """
    try:
        return len(_ENCODE_UTF8(value))
    except (TypeError, ValueError, msgspec.EncodeError):
        return len(_COMPACT.encode(value).encode("utf-8", "surrogatepass"))


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type (``null``, ``boolean``, ``array``...), as causes and diagnostics say it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def _split_root(text: str) -> tuple[str, str]:
    """``$$.a`` -> (``$$``, ``.a``); ``$var.a`` -> (``var``, ``.a``); ``$.a`` -> (``$``, ``.a``)."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise ExpressionError(f"a path must start with '$', '$$' or '$variableName', got {text!r}")
    if text.startswith(CONTEXT_ROOT):
        return CONTEXT_ROOT, text[2:]
    match = _VARIABLE.match(text)
    if match:
        return match.group(1), text[match.end():]
    return VALUE_ROOT, text[1:]


def _parse_steps(rest: str) -> tuple[Step, ...] | None:
    """The steps of a Reference Path, or None when ``rest`` needs full JSONPath (wildcards, filters...)."""
    steps: list[Step] = []
    pos = 0
    while pos < len(rest):
        char = rest[pos]
        if char == "." and not rest.startswith("..", pos):
            match = _NAME.match(rest, pos + 1)
            if not match:
                return None
            steps.append(match.group())
            pos = match.end()
        elif char == "[":
            match = _INDEX.match(rest, pos)
            if match:
                steps.append(int(match.group(1)))
                pos = match.end()
                continue
            key, pos = _quoted_key(rest, pos + 1)
            if key is None:
                return None
            steps.append(key)
        else:
            return None
    return tuple(steps)


def _quoted_key(rest: str, pos: int) -> tuple[str | None, int]:
    """Parse ``'key']`` (or double quotes) starting at ``pos``; (None, pos) if it is not a lone quoted key."""
    while pos < len(rest) and rest[pos] == " ":
        pos += 1
    if pos >= len(rest) or rest[pos] not in "'\"":
        return None, pos
    quote = rest[pos]
    chars: list[str] = []
    pos += 1
    while pos < len(rest):
        char = rest[pos]
        if char == "\\" and rest.startswith(quote, pos + 1):  # only the quote is escapable, as in Jayway
            chars.append(quote)
            pos += 2
            continue
        if char == quote:
            end = pos + 1
            while end < len(rest) and rest[end] == " ":
                end += 1
            if end < len(rest) and rest[end] == "]":
                return "".join(chars), end + 1
            return None, pos
        chars.append(char)
        pos += 1
    return None, pos


def _normalized(steps: tuple[Step, ...]) -> str:
    """Jayway's normalized form, which AWS quotes in InputPath/OutputPath causes: ``$['a'][0]``."""
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


def _walk(value: Any, steps: tuple[Step, ...]) -> Any:
    """Follow ``steps`` into ``value``; ``_MISSING`` when any step does not exist."""
    for step in steps:
        if isinstance(step, str):
            if type(value) is not dict and not isinstance(value, Mapping):
                return _MISSING
            value = value.get(step, _MISSING)
            if value is _MISSING:
                return _MISSING
        else:
            if type(value) is not list or not -len(value) <= step < len(value):
                return _MISSING
            value = value[step]
    return value


def _root_reader(root: str) -> Callable[[Scope], Any]:
    if root == VALUE_ROOT:
        return lambda scope: scope.value
    if root == CONTEXT_ROOT:
        return lambda scope: scope.context
    return lambda scope: scope.variables.get(root, _MISSING)


@dataclass(frozen=True, slots=True)
class Path:
    """A compiled JSONPath. ``read`` gives one value for a definite path, a list of matches otherwise."""

    text: str
    root: str
    steps: tuple[Step, ...] | None
    _query: Any
    _root: Callable[[Scope], Any]

    @property
    def field_keys(self) -> tuple[str, ...] | None:
        """The keys of a plain field path on ``$`` (``$.a.b``: ``("a", "b")``; ``$``: ``()``), the
        form fast paths read through dicts directly; None for other roots, indexes or full JSONPath."""
        if self.root != VALUE_ROOT or self.steps is None or not all(isinstance(step, str) for step in self.steps):
            return None
        return self.steps  # type: ignore[return-value]

    @property
    def is_reference(self) -> bool:
        """True for a Reference Path: only ``.name``, ``['name']`` and ``[int]`` steps."""
        return self.steps is not None

    def read(self, scope: Scope, field: str | None = None) -> Any:
        """The value at this path; ``States.Runtime`` when a definite path matches nothing.

        ``field`` names where the path was written (``'value.$'``, ``'ErrorPath'``) for the cause;
        without it the cause is the one AWS gives for InputPath/OutputPath.
        """
        base = self._root(scope)
        if self.steps is not None:
            found = _MISSING if base is _MISSING else _walk(base, self.steps)
            if found is _MISSING:
                raise self._not_found(base, field)
            return found
        if base is _MISSING:
            raise self._not_found(base, field)
        return [match.value for match in self._query.find(base)]

    def reader(self, field: str | None = None) -> Callable[[Scope], Any]:
        """``read`` as a function of the scope, with a shortcut for ``$.a.b`` through plain dicts.

        The shortcut only finds values; anything else (a miss, another root, an index, a
        Mapping that is not a dict) goes through ``read``, which also raises the error.
        """
        read = self.read
        steps = self.field_keys
        if not steps:
            return read if field is None else lambda scope: read(scope, field)
        if len(steps) == 1:
            key = steps[0]

            def read_key(scope: Scope) -> Any:
                value = scope.value
                if type(value) is dict:
                    found = value.get(key, _MISSING)
                    if found is not _MISSING:
                        return found
                return read(scope, field)

            return read_key

        def read_keys(scope: Scope) -> Any:
            value = scope.value
            for key in steps:
                if type(value) is not dict:
                    return read(scope, field)
                value = value.get(key, _MISSING)
                if value is _MISSING:
                    return read(scope, field)
            return value

        return read_keys

    def _not_found(self, base: Any, field: str | None) -> StatesError:
        if field is not None:
            shown = "" if base is _MISSING else compact_json(base)
            return StatesError(
                RUNTIME,
                f"The JSONPath '{self.text}' specified for the field '{field}' "
                f"could not be found in the input '{shown}'",
            )
        normalized = _normalized(self.steps) if self.steps is not None else self.text
        return StatesError(RUNTIME, f"Invalid path '{self.text}' : No results for path: {normalized}")


def compile_path(text: str) -> Path:
    """Compile ``$...`` (input), ``$$...`` (context object) or ``$name...`` (Assign variable)."""
    root, rest = _split_root(text)
    steps = _parse_steps(rest)
    query = None
    if steps is None:
        query = _parse_jsonpath(text, rest)
    return Path(text, root, steps, query, _root_reader(root))


def _parse_jsonpath(text: str, rest: str) -> Any:
    from jsonpath_ng.ext import parse

    try:
        return parse("$" + rest)
    except Exception as exc:  # jsonpath-ng raises lexer, parser and plain exceptions alike
        raise ExpressionError(
            f"invalid JSONPath {text!r}: {exc}; write e.g. '$.a.b[0]', \"$['key with space']\", "
            "'$.items[*].id' or '$.items[?(@.n > 1)]'"
        ) from exc


@dataclass(frozen=True, slots=True)
class ReferencePath:
    """A Reference Path (InputPath, ItemsPath, ResultPath...): a definite path that can also be written."""

    path: Path

    @property
    def text(self) -> str:
        return self.path.text

    @property
    def root(self) -> str:
        """``$``, ``$$`` or the variable name the path starts from."""
        return self.path.root

    @property
    def steps(self) -> tuple[Step, ...]:
        assert self.path.steps is not None
        return self.path.steps

    def read(self, scope: Scope, field: str | None = None) -> Any:
        return self.path.read(scope, field)

    def write(self, target: Any, value: Any) -> Any:
        """ResultPath: ``target`` with ``value`` placed at this path, as a new document.

        Containers along the path are copied (the rest is shared), missing objects on the way are
        created; a step into something that is not an object (or an index past an array's end)
        fails with ``States.Runtime``.
        """
        if self.path.root != VALUE_ROOT:
            raise ExpressionError(f"a ResultPath must start with '$', got {self.text!r}")
        steps = self.steps
        if not steps:
            return value
        return self._write(target, steps, 0, value, target)

    def writer(self) -> Callable[[Any, Any], Any]:
        """``write`` with a shortcut for the usual ``$.name`` into a plain dict; the rest goes through ``write``."""
        write = self.write
        keys = self.path.field_keys
        if keys is None or len(keys) != 1:
            return write
        key = keys[0]

        def write_key(target: Any, value: Any) -> Any:
            if type(target) is not dict:
                return write(target, value)
            copy = dict(target)
            copy[key] = value
            return copy

        return write_key

    def _write(self, node: Any, steps: tuple[Step, ...], at: int, value: Any, whole: Any) -> Any:
        step = steps[at]
        last = at == len(steps) - 1
        if isinstance(step, str) and type(node) is dict:
            copy = dict(node)
            if last:
                copy[step] = value
            else:
                child = node.get(step, _MISSING)
                copy[step] = self._write({} if child is _MISSING else child, steps, at + 1, value, whole)
            return copy
        if isinstance(step, int) and type(node) is list and -len(node) <= step < len(node):
            copy_list = list(node)
            copy_list[step] = value if last else self._write(node[step], steps, at + 1, value, whole)
            return copy_list
        raise StatesError(RUNTIME, f"Unable to apply ReferencePath {self.text} to input {compact_json(whole)}")


def compile_reference_path(text: str) -> ReferencePath:
    """Compile a Reference Path; wildcards, filters, slices and unions are an ``ExpressionError``."""
    path = compile_path(text)
    if not path.is_reference:
        raise ExpressionError(
            f"{text!r} is not a Reference Path: only '.name', \"['name']\" and '[index]' steps are "
            "allowed here (no wildcards '*', filters '[?(...)]', slices '[a:b]', unions or '..')"
        )
    return ReferencePath(path)
