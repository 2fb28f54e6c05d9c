"""ASL intrinsic functions (``States.Format(...)`` and friends): parsed once, evaluated per run.

Output formatting follows what AWS Step Functions returns (its implementation is Java: Format
prints objects as ``{k=v, k2=v2}``, MathAdd rounds half up, StringSplit splits on any of the
separator characters and drops empty pieces).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
import math
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from asw_airflow.diagnostics import DefinitionError
from asw_airflow.loader import load_value
from asw_airflow.semantics.errors import INTRINSIC_FAILURE, ExpressionError, StatesError
from asw_airflow.semantics.paths import Path, compact_json, compile_path
from asw_airflow.semantics.scope import Scope

ARRAY_RANGE_LIMIT = 1000
"""AWS refuses a States.ArrayRange of more items than this."""
STRING_LIMIT = 10000
"""AWS's input size limit, in characters, for Base64Encode, Base64Decode and Hash."""

_CALL_START = re.compile(r"\s*States\.([A-Za-z0-9]+)\s*\(")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_KEYWORDS = {"true": True, "false": False, "null": None}
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def is_intrinsic(text: Any) -> bool:
    """True when ``text`` looks like ``States.Name(...)`` (a payload template then evaluates it)."""
    return isinstance(text, str) and _CALL_START.match(text) is not None and text.rstrip().endswith(")")


# ---------------------------------------------------------------------------------------------
# Arguments


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument. ``raw`` keeps a string's escapes: Format needs to tell ``\\{`` from ``{``."""

    value: Any
    raw: str | None = None

    def evaluate(self, scope: Scope) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class PathArg:
    """A ``$.x``, ``$$.x`` or ``$var`` argument."""

    path: Path

    def evaluate(self, scope: Scope) -> Any:
        return self.path.read(scope)


@dataclass(frozen=True, slots=True)
class IntrinsicCall:
    """A parsed ``States.Name(arg, ...)``; ``evaluate`` runs it against a scope."""

    name: str
    args: tuple[Argument, ...]
    _function: Callable[[list[Any]], Any]

    def evaluate(self, scope: Scope) -> Any:
        return self._function([arg.evaluate(scope) for arg in self.args])


Argument = Literal | PathArg | IntrinsicCall


# ---------------------------------------------------------------------------------------------
# Helpers shared by the functions


def _fail(function: str, message: str) -> StatesError:
    return StatesError(INTRINSIC_FAILURE, f"Invalid arguments in States.{function}: {message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(function: str, what: str, value: Any) -> int:
    """An integer argument; integral floats (``2.0``) are accepted as AWS does."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _fail(function, f"{what} must be an integer, got {compact_json(value)}")


def _java_round(value: Any) -> int:
    """Java's Math.round: half rounds up (towards positive infinity)."""
    return math.floor(value + 0.5) if isinstance(value, float) else value


def _string(function: str, what: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(function, f"{what} must be a string, got {compact_json(value)}")
    return value


def _array(function: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(function, f"the first argument must be an array, got {compact_json(value)}")
    return value


def _json_key(value: Any) -> str:
    """A key equal for equal JSON values (``true`` is not ``1``, object key order does not matter)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _java_double(value: float) -> str:
    """How Java prints a double: ``1.0``, ``1.1``, ``1.0E20``."""
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    mantissa, exponent = f"{value:e}".split("e")
    mantissa = mantissa.rstrip("0")
    mantissa = mantissa + "0" if mantissa.endswith(".") else mantissa
    return f"{mantissa}E{int(exponent)}"


def _format_value(value: Any) -> str:
    """A value as States.Format prints it: strings bare, objects as Java maps ``{k=v}``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return str(value)


def _split_format(raw: str) -> list[str]:
    """Split a Format template (escapes intact) at its ``{}`` placeholders, resolving escapes."""
    pieces: list[str] = []
    current: list[str] = []
    pos = 0
    while pos < len(raw):
        char = raw[pos]
        if char == "\\" and pos + 1 < len(raw):
            current.append(raw[pos + 1])
            pos += 2
        elif raw.startswith("{}", pos):
            pieces.append("".join(current))
            current = []
            pos += 2
        else:
            current.append(char)
            pos += 1
    pieces.append("".join(current))
    return pieces


# ---------------------------------------------------------------------------------------------
# The functions: each takes the evaluated argument list


def _format_with(pieces: list[str] | None) -> Callable[[list[Any]], Any]:
    """States.Format; ``pieces`` is the pre-split template when it was a literal."""

    def run(args: list[Any]) -> str:
        parts = pieces if pieces is not None else _split_format(_string("Format", "the template", args[0]))
        values = args[1:]
        if len(parts) - 1 != len(values):
            raise _fail(
                "Format",
                f"the template has {len(parts) - 1} placeholder(s) '{{}}' but {len(values)} value(s) were given",
            )
        out = [parts[0]]
        for value, part in zip(values, parts[1:]):
            out.append(_format_value(value))
            out.append(part)
        return "".join(out)

    return run


def _string_to_json(args: list[Any]) -> Any:
    text = _string("StringToJson", "the argument", args[0]).strip()
    if not text:
        return None
    try:
        return load_value(text)
    except DefinitionError as exc:  # strict: NaN, Infinity and duplicate keys are not JSON either
        raise _fail("StringToJson", f"{text!r} is not valid JSON ({exc.diagnostics[0].message})") from exc


def _json_to_string(args: list[Any]) -> str:
    return compact_json(args[0])


def _array_fn(args: list[Any]) -> list[Any]:
    return list(args)


def _array_partition(args: list[Any]) -> list[list[Any]]:
    array = _array("ArrayPartition", args[0])
    size = _integer("ArrayPartition", "the chunk size", args[1])
    if size <= 0:
        raise _fail("ArrayPartition", f"the chunk size must be greater than 0, got {size}")
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_contains(args: list[Any]) -> bool:
    wanted = _json_key(args[1])
    return any(_json_key(item) == wanted for item in _array("ArrayContains", args[0]))


def _array_range(args: list[Any]) -> list[int]:
    start = _integer("ArrayRange", "the start", args[0])
    end = _integer("ArrayRange", "the end", args[1])
    step = _integer("ArrayRange", "the step", args[2])
    if step == 0:
        raise _fail("ArrayRange", "the step must not be 0")
    count = max(0, (end - start) // step + 1)
    if count > ARRAY_RANGE_LIMIT:
        raise _fail("ArrayRange", f"the range has {count} items; at most {ARRAY_RANGE_LIMIT} are allowed")
    return [start + i * step for i in range(count)]


def _array_get_item(args: list[Any]) -> Any:
    array = _array("ArrayGetItem", args[0])
    index = _integer("ArrayGetItem", "the index", args[1])
    if not 0 <= index < len(array):
        raise _fail("ArrayGetItem", f"the index {index} is out of bounds for an array of length {len(array)}")
    return array[index]


def _array_length(args: list[Any]) -> int:
    return len(_array("ArrayLength", args[0]))


def _array_unique(args: list[Any]) -> list[Any]:
    seen: set[str] = set()
    unique: list[Any] = []
    for item in _array("ArrayUnique", args[0]):
        key = _json_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _limited(function: str, value: Any) -> str:
    text = _string(function, "the argument", value)
    if len(text) > STRING_LIMIT:
        raise _fail(function, f"the input has {len(text)} characters; at most {STRING_LIMIT} are allowed")
    return text


def _base64_encode(args: list[Any]) -> str:
    return base64.b64encode(_limited("Base64Encode", args[0]).encode("utf-8")).decode("ascii")


def _base64_decode(args: list[Any]) -> str:
    text = _limited("Base64Decode", args[0])
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _fail("Base64Decode", f"{text!r} is not valid base64 of UTF-8 text") from exc


def _hash(args: list[Any]) -> str:
    data = _limited("Hash", args[0])
    algorithm = args[1]
    if algorithm not in _HASHES:
        raise _fail("Hash", f"unknown algorithm {compact_json(algorithm)}; use one of {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], data.encode("utf-8")).hexdigest()


def _json_merge(args: list[Any]) -> dict[str, Any]:
    left, right, deep = args
    if not isinstance(left, dict) or not isinstance(right, dict):
        raise _fail("JsonMerge", "both values to merge must be JSON objects")
    if not isinstance(deep, bool):
        raise _fail("JsonMerge", f"the deep-merge flag must be a boolean, got {compact_json(deep)}")
    if deep:
        raise _fail("JsonMerge", "deep merging is not supported; pass false for a shallow merge")
    return {**left, **right}


def _math_random(args: list[Any]) -> int:
    if not all(_is_number(a) for a in args[:2]):
        raise _fail("MathRandom", "the start and end must be numbers")
    start, end = _java_round(args[0]), _java_round(args[1])
    if start >= end:
        raise _fail("MathRandom", f"the start ({start}) must be less than the end ({end})")
    generator = random.Random(_integer("MathRandom", "the seed", args[2])) if len(args) == 3 else random
    return generator.randrange(start, end)


def _math_add(args: list[Any]) -> int:
    if not all(_is_number(a) for a in args):
        raise _fail("MathAdd", f"both values must be numbers, got {compact_json(args)}")
    return _java_round(args[0]) + _java_round(args[1])


def _string_split(args: list[Any]) -> list[str]:
    text = _string("StringSplit", "the string", args[0])
    separators = _string("StringSplit", "the separator", args[1])
    if not separators:
        return [text] if text else []
    return [piece for piece in re.split("[" + re.escape(separators) + "]", text) if piece]


def _uuid(args: list[Any]) -> str:
    return str(uuid.uuid4())


_FIXED: dict[str, tuple[Callable[[list[Any]], Any], int, int | None]] = {
    "StringToJson": (_string_to_json, 1, 1),
    "JsonToString": (_json_to_string, 1, 1),
    "Array": (_array_fn, 0, None),
    "ArrayPartition": (_array_partition, 2, 2),
    "ArrayContains": (_array_contains, 2, 2),
    "ArrayRange": (_array_range, 3, 3),
    "ArrayGetItem": (_array_get_item, 2, 2),
    "ArrayLength": (_array_length, 1, 1),
    "ArrayUnique": (_array_unique, 1, 1),
    "Base64Encode": (_base64_encode, 1, 1),
    "Base64Decode": (_base64_decode, 1, 1),
    "Hash": (_hash, 2, 2),
    "JsonMerge": (_json_merge, 3, 3),
    "MathRandom": (_math_random, 2, 3),
    "MathAdd": (_math_add, 2, 2),
    "StringSplit": (_string_split, 2, 2),
    "UUID": (_uuid, 0, 0),
}
KNOWN_FUNCTIONS: tuple[str, ...] = tuple(sorted(["Format", *_FIXED]))


# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    """Recursive descent over ``States.Name(arg, ...)``; positions in errors are 0-based offsets."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, message: str) -> ExpressionError:
        return ExpressionError(f"intrinsic function {self.text!r}: {message} (at offset {self.pos})")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self) -> IntrinsicCall:
        match = _CALL_START.match(self.text, self.pos)
        if not match:
            raise self.error("expected a call like States.Format('...', $.x)")
        name = match.group(1)
        self.pos = match.end()
        args: list[Argument] = []
        self.skip_spaces()
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                args.append(self.argument())
                self.skip_spaces()
                char = self.peek()
                self.pos += 1
                if char == ")":
                    break
                if char != ",":
                    self.pos -= 1
                    raise self.error("expected ',' or ')' after an argument")
        return _build_call(name, tuple(args))

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def argument(self) -> Argument:
        self.skip_spaces()
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            literal = number.group()
            return Literal(int(literal) if number.group(1) is None and number.group(2) is None else float(literal))
        for word, value in _KEYWORDS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Literal(value)
        raise self.error("expected an argument: 'string', number, true, false, null, a path or States.*(...)")

    def string(self) -> Literal:
        start = self.pos + 1
        pos = start
        chars: list[str] = []
        while pos < len(self.text):
            char = self.text[pos]
            if char == "\\" and pos + 1 < len(self.text):
                chars.append(self.text[pos + 1])
                pos += 2
                continue
            if char == "'":
                self.pos = pos + 1
                return Literal("".join(chars), raw=self.text[start:pos])
            chars.append(char)
            pos += 1
        raise self.error("unterminated string literal (escape a quote inside it as \\')")

    def path(self) -> PathArg:
        start = self.pos
        depth = 0
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        return PathArg(compile_path(self.text[start : self.pos].rstrip()))


def _build_call(name: str, args: tuple[Argument, ...]) -> IntrinsicCall:
    if name == "Format":
        if not args:
            raise ExpressionError("States.Format takes a template string and then one value per '{}'")
        pieces = None
        template = args[0]
        if isinstance(template, Literal):
            if not isinstance(template.value, str):
                raise ExpressionError("the first argument of States.Format must be a string template")
            pieces = _split_format(template.raw or "")
            if len(pieces) - 1 != len(args) - 1:
                raise ExpressionError(
                    f"States.Format template has {len(pieces) - 1} placeholder(s) '{{}}' "
                    f"but {len(args) - 1} value(s) follow it"
                )
        return IntrinsicCall(name, args, _format_with(pieces))
    if name not in _FIXED:
        close = difflib.get_close_matches(name, KNOWN_FUNCTIONS, n=1)
        hint = f"did you mean States.{close[0]}? " if close else ""
        raise ExpressionError(
            f"unknown intrinsic function States.{name}; {hint}known: "
            + ", ".join(f"States.{n}" for n in KNOWN_FUNCTIONS)
        )
    function, least, most = _FIXED[name]
    if len(args) < least or (most is not None and len(args) > most):
        expected = str(least) if least == most else (f"at least {least}" if most is None else f"{least} to {most}")
        raise ExpressionError(f"States.{name} takes {expected} argument(s), got {len(args)}")
    return IntrinsicCall(name, args, function)


def parse_intrinsic(text: str) -> IntrinsicCall:
    """Parse ``States.Name(...)``; syntax errors, unknown names and wrong arity are ``ExpressionError``."""
    parser = _Parser(text)
    call = parser.call()
    parser.skip_spaces()
    if parser.pos != len(text):
        raise parser.error("unexpected text after the closing ')'")
    return call
