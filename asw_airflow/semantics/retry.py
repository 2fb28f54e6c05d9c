"""Retry as a pure decision: given the retriers, the attempt counts so far and an error, how long to wait.

Both backends keep the per-retrier counts themselves (the engine in memory, Airflow in
XCom or trigger events) and ask ``decide_retry`` after every failed attempt, so the
arithmetic of ASL's backoff lives in exactly one place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from asw_airflow.semantics.errors import ExpressionError, check_fields, error_matches, parse_error_equals

JITTER_STRATEGIES = ("NONE", "FULL")
_FIELDS = frozenset(
    {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"}
)


@dataclass(frozen=True)
class Retrier:
    """One entry of a state's ``Retry`` list, with ASL's defaults."""

    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_strategy: str = "NONE"

    @classmethod
    def from_definition(cls, obj: Mapping[str, Any]) -> Retrier:
        """Build a Retrier from its TCSL object; ``ExpressionError`` names the first field that is wrong."""
        check_fields(obj, "a Retrier", _FIELDS)
        error_equals = parse_error_equals(obj.get("ErrorEquals"))
        jitter = obj.get("JitterStrategy", "NONE")
        if jitter not in JITTER_STRATEGIES:
            raise ExpressionError(f"JitterStrategy must be one of {', '.join(JITTER_STRATEGIES)}, got {jitter!r}")
        max_delay = obj.get("MaxDelaySeconds")
        return cls(
            error_equals=error_equals,
            interval_seconds=_integer(obj, "IntervalSeconds", 1, minimum=1),
            max_attempts=_integer(obj, "MaxAttempts", 3, minimum=0),
            backoff_rate=_backoff_rate(obj),
            max_delay_seconds=None if max_delay is None else _integer(obj, "MaxDelaySeconds", None, minimum=1),
            jitter_strategy=jitter,
        )

    def delay(self, retries_done: int, random: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retries_done + 1``: backoff, cap, then jitter."""
        delay = self.interval_seconds * self.backoff_rate**retries_done
        if self.max_delay_seconds is not None:
            delay = min(delay, self.max_delay_seconds)
        if self.jitter_strategy == "FULL":
            delay *= random()
        return float(delay)


@dataclass(frozen=True)
class RetryDecision:
    """``delay`` is None when the error must not be retried; ``attempts`` are the counts to keep for next time."""

    delay: float | None
    attempts: tuple[int, ...]

    @property
    def retry(self) -> bool:
        return self.delay is not None


def decide_retry(
    retriers: Sequence[Retrier],
    attempts: tuple[int, ...],
    error: str,
    random: Callable[[], float] = random.random,
) -> RetryDecision:
    """Whether and when to retry after ``error``.

    ``attempts[i]`` counts the retries retrier ``i`` has granted during this state's
    execution (start from all zeros). Only the first retrier whose ``ErrorEquals``
    matches is consulted (ASL): if it is exhausted the state fails even when a later
    retrier would match. Its count is shared by every error it names.
    """
    if len(attempts) != len(retriers):
        raise ValueError(f"attempts has {len(attempts)} counts for {len(retriers)} retriers")
    for index, retrier in enumerate(retriers):
        if not error_matches(retrier.error_equals, error):
            continue
        done = attempts[index]
        if done >= retrier.max_attempts:
            return RetryDecision(None, attempts)
        return RetryDecision(retrier.delay(done, random), attempts[:index] + (done + 1,) + attempts[index + 1 :])
    return RetryDecision(None, attempts)


def _integer(obj: Mapping[str, Any], field: str, default: int | None, minimum: int) -> Any:
    value = obj.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ExpressionError(f"{field} must be an integer >= {minimum}, got {value!r}")
    return value


def _backoff_rate(obj: Mapping[str, Any]) -> float:
    value = obj.get("BackoffRate", 2.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1:
        raise ExpressionError(f"BackoffRate must be a number >= 1.0, got {value!r}")
    return float(value)
