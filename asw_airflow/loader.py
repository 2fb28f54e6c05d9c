"""Load a TCSL definition: strict JSON in, parsed document plus a lazy source map out.

Python's ``json`` silently keeps the last of duplicate keys, accepts ``NaN`` and reads
``1e999`` as infinity; all would lose or distort what the user wrote, so they are errors here. The fast
path is the C parser; only when something is wrong, or a diagnostic needs a line
and column, is the text scanned again by a small scanner that records where each
JSON pointer's key and value start.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import sys
from dataclasses import dataclass, field
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from asw_airflow.diagnostics import DefinitionError, Diagnostic, pointer_join, pointer_parts

INVALID_JSON = "INVALID_JSON_DESCRIPTION"
DUPLICATE_KEY = "DUPLICATE_JSON_KEY"

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_CONSTANTS = (("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"))
_LITERALS = {"true": True, "false": False, "null": None}


class _Duplicate(Exception):
    pass


class _NonFinite(Exception):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Duplicate
    return result


def _reject_constant(name: str) -> Any:
    raise _NonFinite(name)


def _finite_float(text: str) -> float:
    """``parse_float`` hook: a literal past the double range (``1e999``) would silently be infinity."""
    value = float(text)
    if math.isinf(value):
        raise _NonFinite(text)
    return value


def _number_problem(token: str) -> str | None:
    """Why a number literal the grammar allows cannot be read faithfully, or None."""
    if token.strip("-0123456789"):  # a fraction or exponent: read as a float
        if math.isinf(float(token)):
            return f"{token} is beyond the range of a JSON number (it would read as Infinity); write a smaller number"
        return None
    limit = sys.get_int_max_str_digits()
    if limit and len(token.lstrip("-")) > limit:
        return f"the integer has {len(token.lstrip('-'))} digits, more than the {limit} Python reads; write it as a string"
    return None


@dataclass
class SourceMap:
    """Offsets of every pointer's key and value in the text, and line starts to turn them into positions."""

    text: str
    keys: dict[str, int] = field(default_factory=dict)
    values: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str, str, int]] = field(default_factory=list)
    _line_starts: list[int] = field(default_factory=list)

    def position(self, offset: int) -> tuple[int, int]:
        if not self._line_starts:
            self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", self.text)]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int]:
        """Line and column of ``pointer`` (its key when ``key``); a missing pointer falls back to its nearest ancestor."""
        parts = pointer_parts(pointer)
        while True:
            current = pointer_join(*parts)
            table = self.keys if key and current in self.keys else self.values
            if current in table:
                return self.position(table[current])
            if not parts:
                return 1, 1
            parts.pop()


class _Scanner:
    """Walks text that the C parser accepted (NaN and duplicates aside) and records positions."""

    def __init__(self, text: str):
        self.text = text
        self.map = SourceMap(text)

    def skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()

    def value(self, i: int, pointer: str) -> int:
        text = self.text
        i = self.skip(i)
        self.map.values[pointer] = i
        c = text[i]
        if c == "{":
            return self.object(i + 1, pointer)
        if c == "[":
            return self.array(i + 1, pointer)
        if c == '"':
            return scanstring(text, i + 1)[1]
        for word in _LITERALS:
            if text.startswith(word, i):
                return i + len(word)
        for word, _ in _CONSTANTS:
            if text.startswith(word, i):
                self.map.problems.append(
                    (INVALID_JSON, f"{word} is not a JSON number; write a finite number or a string", pointer, i)
                )
                return i + len(word)
        end = _NUMBER.match(text, i).end()
        problem = _number_problem(text[i:end])
        if problem is not None:
            self.map.problems.append((INVALID_JSON, problem, pointer, i))
        return end

    def object(self, i: int, pointer: str) -> int:
        text = self.text
        seen: set[str] = set()
        i = self.skip(i)
        if text[i] == "}":
            return i + 1
        while True:
            i = self.skip(i)
            key_start = i
            key, i = scanstring(text, i + 1)
            child = pointer + "/" + key.replace("~", "~0").replace("/", "~1")
            if key in seen:
                self.map.problems.append(
                    (DUPLICATE_KEY, f"key {key!r} appears more than once in this object; "
                     "JSON parsers keep only the last one, so merge or rename them", child, key_start)
                )
            else:
                self.map.keys[child] = key_start
            seen.add(key)
            i = self.value(self.skip(i) + 1, child)  # past the colon
            i = self.skip(i)
            if text[i] == "}":
                return i + 1
            i += 1  # the comma

    def array(self, i: int, pointer: str) -> int:
        text = self.text
        i = self.skip(i)
        if text[i] == "]":
            return i + 1
        index = 0
        while True:
            i = self.value(i, f"{pointer}/{index}")
            index += 1
            i = self.skip(i)
            if text[i] == "]":
                return i + 1
            i += 1


def build_source_map(text: str) -> SourceMap:
    scanner = _Scanner(text)
    scanner.value(0, "")
    return scanner.map


@dataclass
class Source:
    """A loaded definition: the document, its text and file, and a source map built on first use."""

    document: Any
    text: str
    file: str | None = None
    _map: SourceMap | None = None

    @property
    def source_map(self) -> SourceMap:
        if self._map is None:
            self._map = build_source_map(self.text)
        return self._map

    def diagnostic(self, code: str, message: str, pointer: str, *, key: bool = False, severity: str = "ERROR") -> Diagnostic:
        line, column = self.source_map.locate(pointer, key=key)
        return Diagnostic(code, message, pointer, self.file, line, column, severity)  # type: ignore[arg-type]


def _decode(data: str | bytes, file: str | None) -> str:
    if isinstance(data, str):
        return data[1:] if data.startswith("\ufeff") else data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DefinitionError(
            [Diagnostic(INVALID_JSON, "the file is not UTF-8 text; save it as UTF-8", "", file, line, column)]
        ) from None


def _parse(text: str, file: str | None) -> Any:
    """The C parser with hooks that only fire on what strict JSON forbids; the scanner then says where."""
    try:
        return json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [Diagnostic(INVALID_JSON, f"not valid JSON: {exc.msg}", "", file, exc.lineno, exc.colno)]
        ) from None
    except RecursionError:
        raise DefinitionError(
            [Diagnostic(INVALID_JSON, "the JSON is nested too deeply to read", "", file, 1, 1)]
        ) from None
    except (_Duplicate, _NonFinite, ValueError) as exc:  # ValueError: an integer past Python's digit limit
        source_map = build_source_map(text)
        problems = [
            Diagnostic(code, message, pointer, file, *source_map.position(offset))
            for code, message, pointer, offset in source_map.problems
        ]
        raise DefinitionError(problems or [Diagnostic(INVALID_JSON, f"not valid JSON: {exc}", "", file, 1, 1)]) from None


def load_value(data: str | bytes, file: str | None = None) -> Any:
    """Any strict JSON value (an execution input, a corpus line): the definition rules without "must be an object"."""
    return _parse(_decode(data, file), file)


def load_text(data: str | bytes, file: str | None = None) -> Source:
    """Parse a definition, raising :class:`DefinitionError` with located diagnostics if it is not strict JSON."""
    text = _decode(data, file)
    document = _parse(text, file)
    source = Source(document, text, file)
    if not isinstance(document, dict):
        raise DefinitionError(
            [source.diagnostic(INVALID_JSON, "a workflow definition must be a JSON object with StartAt and States", "")]
        )
    return source


def load_file(path: str | Path) -> Source:
    """Read and parse a definition file; I/O errors propagate as ``OSError`` for the caller to report."""
    path = Path(path)
    return load_text(path.read_bytes(), str(path))
