"""Retry decisions: ASL's backoff arithmetic, per-retrier counting and the first-match rule."""

import pytest

from asw_airflow.semantics.errors import ExpressionError
from asw_airflow.semantics.retry import Retrier, RetryDecision, decide_retry


def _run(retriers: list[Retrier], errors: list[str]) -> list[float | None]:
    """Feed errors in sequence, carrying the counts, as a backend does; return each delay."""
    attempts = (0,) * len(retriers)
    delays = []
    for error in errors:
        decision = decide_retry(retriers, attempts, error)
        attempts = decision.attempts
        delays.append(decision.delay)
    return delays


def test_asl_spec_example_shares_the_count_between_errors_of_one_retrier() -> None:
    retriers = [
        Retrier.from_definition({"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2}),
        Retrier.from_definition({"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}),
    ]
    assert _run(retriers, ["ErrorA", "ErrorB", "ErrorC", "ErrorB"]) == [1.0, 2.0, 5.0, None]


def test_defaults_are_asl_defaults() -> None:
    retrier = Retrier.from_definition({"ErrorEquals": ["States.ALL"]})
    assert retrier == Retrier(("States.ALL",), 1, 3, 2.0, None, "NONE")
    assert _run([retrier], ["E"] * 4) == [1.0, 2.0, 4.0, None]


def test_max_delay_caps_the_backoff() -> None:
    retrier = Retrier.from_definition(
        {"ErrorEquals": ["E"], "IntervalSeconds": 3, "BackoffRate": 3, "MaxAttempts": 4, "MaxDelaySeconds": 20}
    )
    assert _run([retrier], ["E"] * 5) == [3.0, 9.0, 20.0, 20.0, None]


def test_full_jitter_scales_the_capped_delay_by_the_random_draw() -> None:
    retrier = Retrier.from_definition(
        {"ErrorEquals": ["E"], "IntervalSeconds": 10, "MaxAttempts": 3, "MaxDelaySeconds": 15, "JitterStrategy": "FULL"}
    )
    first = decide_retry([retrier], (0,), "E", random=lambda: 0.5)
    second = decide_retry([retrier], first.attempts, "E", random=lambda: 0.5)
    assert (first.delay, second.delay) == (5.0, 7.5)
    assert decide_retry([retrier], (0,), "E", random=lambda: 0.0).delay == 0.0


def test_max_attempts_zero_never_retries() -> None:
    retrier = Retrier.from_definition({"ErrorEquals": ["E"], "MaxAttempts": 0})
    assert decide_retry([retrier], (0,), "E") == RetryDecision(None, (0,))


def test_exhausted_first_match_hides_later_matching_retriers() -> None:
    retriers = [
        Retrier.from_definition({"ErrorEquals": ["E"], "MaxAttempts": 1}),
        Retrier.from_definition({"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}),
    ]
    assert _run(retriers, ["E", "E"]) == [1.0, None]


def test_first_matching_retrier_wins_and_only_its_count_moves() -> None:
    retriers = [
        Retrier.from_definition({"ErrorEquals": ["NoSuchError"], "MaxAttempts": 1}),
        Retrier.from_definition({"ErrorEquals": ["State.ALL"], "MaxAttempts": 2}),
        Retrier.from_definition({"ErrorEquals": ["HandleItemFailError"], "MaxAttempts": 3, "IntervalSeconds": 2}),
    ]
    decision = decide_retry(retriers, (0, 0, 0), "HandleItemFailError")
    assert decision == RetryDecision(2.0, (0, 0, 1))
    assert decision.retry


def test_unmatched_error_is_not_retried() -> None:
    retriers = [Retrier.from_definition({"ErrorEquals": ["E"]})]
    assert decide_retry(retriers, (0,), "Other") == RetryDecision(None, (0,))
    assert not decide_retry([], (), "Other").retry


def test_states_all_does_not_retry_runtime_errors() -> None:
    retriers = [Retrier.from_definition({"ErrorEquals": ["States.ALL"]})]
    assert decide_retry(retriers, (0,), "States.Runtime").delay is None


def test_attempt_counts_must_line_up_with_retriers() -> None:
    with pytest.raises(ValueError, match="2 retriers"):
        decide_retry([Retrier(("E",)), Retrier(("F",))], (0,), "E")


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"IntervalSeconds": 1}, "ErrorEquals"),
        ({"ErrorEquals": []}, "ErrorEquals"),
        ({"ErrorEquals": "E"}, "ErrorEquals"),
        ({"ErrorEquals": ["States.ALL", "E"]}, "alone"),
        ({"ErrorEquals": ["E"], "IntervalSeconds": 0}, "IntervalSeconds"),
        ({"ErrorEquals": ["E"], "IntervalSeconds": 1.5}, "IntervalSeconds"),
        ({"ErrorEquals": ["E"], "MaxAttempts": -1}, "MaxAttempts"),
        ({"ErrorEquals": ["E"], "MaxAttempts": True}, "MaxAttempts"),
        ({"ErrorEquals": ["E"], "BackoffRate": 0.5}, "BackoffRate"),
        ({"ErrorEquals": ["E"], "MaxDelaySeconds": 0}, "MaxDelaySeconds"),
        ({"ErrorEquals": ["E"], "JitterStrategy": "HALF"}, "JitterStrategy"),
        ({"ErrorEquals": ["E"], "Interval": 3}, "Interval"),
    ],
)
def test_malformed_retriers_are_rejected_with_the_field_named(definition: dict, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        Retrier.from_definition(definition)


def test_fractional_backoff_rate_is_kept() -> None:
    retrier = Retrier.from_definition({"ErrorEquals": ["E"], "IntervalSeconds": 2, "BackoffRate": 1.5})
    assert _run([retrier], ["E"] * 3) == [2.0, 3.0, 4.5]
