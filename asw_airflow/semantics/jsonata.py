"""QueryLanguage JSONata: ``{% ... %}`` expressions via jsonata-python, plus the functions AWS adds.

Step Functions evaluates with no context item: the state's data arrives as ``$states`` and Assign
variables as ``$name``. An expression that returns nothing (JSONata's *undefined*) fails the
field it was written in, with ``States.QueryEvaluationError``, as AWS does; a JSON ``null`` is a
value and is kept.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import threading
import uuid
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Callable

from asw_airflow.loader import load_value
from asw_airflow.semantics.errors import QUERY_EVALUATION_ERROR, ExpressionError, StatesError
from asw_airflow.semantics.templates import copy_json


@functools.cache
def _library() -> Any:
    """jsonata-python, imported on first use: DAG parsing of workflows without JSONata never pays for it
    (and never gets its process-wide ``sys.setrecursionlimit(10000)``)."""
    import jsonata
    import jsonata.utils

    return jsonata

OPEN, CLOSE = "{%", "%}"
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def is_jsonata(value: Any) -> bool:
    """True for a string that is exactly one ``{% ... %}`` expression."""
    return isinstance(value, str) and value.startswith(OPEN) and value.endswith(CLOSE) and len(value) >= 4


# ---------------------------------------------------------------------------------------------
# Functions Step Functions adds to JSONata. Returning None means "undefined", as AWS answers
# for a zero chunk size, an empty array, a missing $range step or a missing $hash algorithm.


def _truncate(value: Any) -> int:
    """AWS rounds non-integer arguments towards zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    return math.trunc(value)


def _partition(array: Any, size: Any = None) -> Any:
    if array is None or size is None:
        return None
    if not isinstance(array, list):
        raise ValueError("$partition expects an array as its first argument")
    chunk = _truncate(size)
    if chunk <= 0 or not array:
        return None
    return [list(array[i : i + chunk]) for i in range(0, len(array), chunk)]


def _range(start: Any, end: Any = None, step: Any = None) -> Any:
    if start is None or end is None or step is None:
        return None
    first, last, stride = _truncate(start), _truncate(end), _truncate(step)
    if stride == 0 or (last - first) * stride < 0:
        return None
    values = list(range(first, last + (1 if stride > 0 else -1), stride))
    return values[0] if len(values) == 1 else values


def _hash(value: Any, algorithm: Any = None) -> Any:
    if value is None or algorithm is None:
        return None
    if algorithm not in _HASHES:
        raise ValueError(f"$hash algorithm must be one of {', '.join(_HASHES)}, got {algorithm!r}")
    if not isinstance(value, str):
        raise ValueError("$hash expects a string to hash")
    return hashlib.new(_HASHES[algorithm], value.encode("utf-8")).hexdigest()


def _random(seed: Any = None) -> float:
    return random.Random(_truncate(seed)).random() if seed is not None else random.random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("$parse expects a JSON string")
    parsed = load_value(text)
    return _library().utils.Utils.NULL_VALUE if parsed is None else parsed


def _eval_disabled(*args: Any) -> Any:
    raise ValueError("$eval is not supported in Step Functions; use $parse to read JSON text")


_AWS_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "random": _random,
    "uuid": _uuid,
    "parse": _parse,
    "eval": _eval_disabled,
}


# ---------------------------------------------------------------------------------------------


def _for_jsonata(value: Any) -> Any:
    """A top-level binding of JSON null must be JSONata null, not undefined."""
    return _library().utils.Utils.NULL_VALUE if value is None else value


@dataclass(eq=False)
class JsonataExpression:
    """One compiled ``{% ... %}`` expression; ``text`` is the expression without its delimiters."""

    text: str
    _compiled: Any = dataclass_field(repr=False)
    _lock: threading.Lock = dataclass_field(default_factory=threading.Lock, repr=False)

    def evaluate(self, bindings: dict[str, Any], field: str | None = None) -> Any:
        """Evaluate with ``bindings`` as variables (``states``, Assign names).

        Errors and an undefined result raise ``States.QueryEvaluationError``; ``field`` (e.g.
        ``'Output/v'``) names where the expression was written in that cause.
        """
        frame = {name: _for_jsonata(value) for name, value in bindings.items()}
        try:
            with self._lock:  # jsonata-python keeps per-call state on the instance and a thread-local
                _library().Jsonata.CURRENT.jsonata = self._compiled
                result = self._compiled.evaluate(None, frame)
        except Exception as exc:  # the library raises JException, ValueError, TypeError...
            raise StatesError(QUERY_EVALUATION_ERROR, self._cause(f"failed: {exc}", field)) from exc
        if result is None:
            raise StatesError(QUERY_EVALUATION_ERROR, self._cause("returned nothing (undefined).", field))
        return _library().utils.Utils.convert_nulls(result)

    def _cause(self, what: str, field: str | None) -> str:
        where = f" specified for the field '{field}'" if field else ""
        return f"The JSONata expression '{self.text}'{where} {what}"


def compile_jsonata(text: str) -> JsonataExpression:
    """Compile ``{% expr %}``; a missing delimiter or a JSONata syntax error is an ``ExpressionError``."""
    if not is_jsonata(text):
        raise ExpressionError(f"a JSONata expression must be written as '{{% expression %}}', got {text!r}")
    body = text[len(OPEN) : -len(CLOSE)].strip()
    if not body:
        raise ExpressionError("the JSONata expression between '{%' and '%}' is empty")
    try:
        compiled = _library().Jsonata(body)
    except Exception as exc:  # jsonata-python reports syntax errors as JException
        raise ExpressionError(f"invalid JSONata expression {body!r}: {exc}") from exc
    if compiled.get_errors():
        raise ExpressionError(f"invalid JSONata expression {body!r}: {compiled.get_errors()[0]}")
    compiled.set_output_convert_nulls(False)
    for name, function in _AWS_FUNCTIONS.items():
        compiled.register_lambda(name, function)
    return JsonataExpression(body, compiled)


Renderer = Callable[[dict[str, Any], str | None], Any]


def _compile(value: Any) -> tuple[Renderer, bool]:
    """A renderer for ``value`` and whether it holds any expression."""
    if is_jsonata(value):
        expression = compile_jsonata(value)
        return expression.evaluate, True
    if isinstance(value, dict):
        parts = [(key, *_compile(item)) for key, item in value.items()]
        if not any(dynamic for _, _, dynamic in parts):
            return (lambda bindings, where: copy_json(value)), False
        return (
            lambda bindings, where: {
                key: render(bindings, f"{where}/{key}" if where else key) for key, render, _ in parts
            }
        ), True
    if isinstance(value, list):
        items = [_compile(item) for item in value]
        if not any(dynamic for _, dynamic in items):
            return (lambda bindings, where: copy_json(value)), False
        return (
            lambda bindings, where: [render(bindings, f"{where or ''}[{i}]") for i, (render, _) in enumerate(items)]
        ), True
    return (lambda bindings, where: value), False


@dataclass(frozen=True, slots=True)
class JsonataTemplate:
    """A compiled Arguments/Output/Assign value: ``{% %}`` strings anywhere are evaluated, the rest is literal."""

    source: Any
    _render: Renderer

    def render(self, bindings: dict[str, Any], field: str | None = None) -> Any:
        """A fresh value for these bindings; ``field`` (``'Output'``) prefixes nested names in causes."""
        return self._render(bindings, field)


def compile_jsonata_template(value: Any) -> JsonataTemplate:
    """Compile a JSONata-mode field value; syntax errors in any expression are an ``ExpressionError``."""
    render, _ = _compile(value)
    return JsonataTemplate(value, render)
