"""Payload templates (Parameters, ResultSelector, ItemSelector): ``key.$`` fields evaluated per run.

A template compiles into a tree of closures, so rendering is plain calls: constants are returned
as-is (scalars) or rebuilt (containers), never shared with the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from asw_airflow.semantics.errors import ExpressionError
from asw_airflow.semantics.intrinsics import is_intrinsic, parse_intrinsic
from asw_airflow.semantics.paths import VALUE_ROOT, compile_path, json_size
from asw_airflow.semantics.scope import Scope

Renderer = Callable[[Scope], Any]


def copy_json(value: Any) -> Any:
    """A deep copy of plain JSON data, several times faster than ``copy.deepcopy``."""
    if type(value) is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_json(v) for v in value]
    return value


def _is_constant(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not k.endswith(".$") and _is_constant(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_constant(v) for v in value)
    return True


def _expression(key: str, text: Any, where: str, reads: list[Any]) -> Renderer:
    """The renderer of one ``key.$`` value: a path or an intrinsic call; ``reads`` gets the steps of
    a Reference Path on ``$``, else None (see :attr:`Template.size_bound`)."""
    if not isinstance(text, str):
        raise ExpressionError(
            f"the value of {where!r} must be a string holding a path ('$.x', '$$.x', '$var') "
            f"or an intrinsic call ('States.Format(...)'), got {text!r}"
        )
    if not is_intrinsic(text) and not text.startswith("$"):
        raise ExpressionError(
            f"the value of {where!r} must be a path starting with '$' or an intrinsic call "
            f"'States.Name(...)', got {text!r}"
        )
    try:
        if is_intrinsic(text):
            reads.append(None)
            return parse_intrinsic(text).evaluate
        path = compile_path(text)
    except ExpressionError as exc:
        raise ExpressionError(f"in {where!r}: {exc}") from exc
    reads.append(path.steps if path.root == VALUE_ROOT else None)
    return path.reader(key)


def _compile(value: Any, where: str, reads: list[Any]) -> Renderer:
    if _is_constant(value):
        if isinstance(value, (dict, list)):
            return lambda scope: copy_json(value)
        return lambda scope: value
    if isinstance(value, list):
        items = [_compile(item, f"{where}[{i}]", reads) for i, item in enumerate(value)]
        return lambda scope: [render(scope) for render in items]
    fields: list[tuple[str, Renderer]] = []
    seen: set[str] = set()
    for key, item in value.items():
        path = f"{where}/{key}" if where else key
        if key.endswith(".$"):
            name, render = key[:-2], _expression(key, item, path, reads)
        else:
            name, render = key, _compile(item, path, reads)
        if name in seen:
            raise ExpressionError(f"the template defines {name!r} twice (as {name!r} and {name + '.$'!r})")
        seen.add(name)
        fields.append((name, render))

    def render_object(scope: Scope) -> dict[str, Any]:
        # A plain loop: a dict comprehension costs a frame of its own, which showed per state.
        rendered = {}
        for name, render in fields:
            rendered[name] = render(scope)
        return rendered

    return render_object


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled payload template; ``render`` builds a fresh value from a scope."""

    source: Any
    _render: Renderer
    size_bound: tuple[int, int] | None = None
    """(constant, factor): a render's JSON is at most ``constant + factor * size($)`` bytes, as every
    ``.$`` reads a part of ``$`` (parts at paths none a prefix of another are disjoint: factor 1).
    None when a ``.$`` reads ``$$``, a variable or an intrinsic, or a wildcard path."""

    def render(self, scope: Scope) -> Any:
        """The payload for this scope. A ``.$`` path that matches nothing raises ``States.Runtime``."""
        return self._render(scope)

    @property
    def renderer(self) -> Renderer:
        """``render`` as a plain function, one call less for loops that render per state."""
        return self._render


def compile_template(value: Any) -> Template:
    """Compile a payload template; a non-string ``.$`` value or bad path/intrinsic is an ``ExpressionError``."""
    reads: list[Any] = []
    render = _compile(value, "", reads)
    return Template(value, render, _size_bound(value, reads))


def _size_bound(value: Any, reads: list[tuple[Any, ...] | None]) -> tuple[int, int] | None:
    if None in reads:
        return None
    steps: list[tuple[Any, ...]] = reads  # type: ignore[assignment]  # no None left
    disjoint = not any(_may_overlap(a, b) for i, a in enumerate(steps) for b in steps[i + 1 :])
    return json_size(_skeleton(value)), min(len(reads), 1) if disjoint else len(reads)


def _may_overlap(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether two Reference Paths may reach the same value: one leads into the other, or they
    differ only where an index counts from the end and the other from the start (``[0]``, ``[-1]``)."""
    for x, y in zip(a, b):
        if x == y or (isinstance(x, int) and isinstance(y, int) and (x < 0) != (y < 0)):
            continue
        return False
    return True


def _skeleton(value: Any) -> Any:
    """``value`` with each ``key.$`` as ``key: 0``: one byte where a read value goes."""
    if isinstance(value, list):
        return [_skeleton(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {key[:-2] if key.endswith(".$") else key: 0 if key.endswith(".$") else _skeleton(item) for key, item in value.items()}
