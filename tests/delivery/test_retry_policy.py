"""Exponential backoff with full jitter, bounded by the retry window."""

from __future__ import annotations

from conch.delivery.retry import RetryPolicy

POLICY = RetryPolicy(window=100.0, base=1.0, max_delay=8.0)


def test_delays_are_full_jitter_under_a_doubling_capped_ceiling() -> None:
    for failures, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [POLICY.next_attempt(0.0, failures, 10.0) - 10.0 for _ in range(400)]  # type: ignore[operator]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert max(delays) > 0.8 * ceiling and min(delays) < 0.2 * ceiling  # spread over it


def test_no_attempt_is_scheduled_after_the_window_but_the_window_is_used_to_its_end() -> None:
    assert POLICY.next_attempt(0.0, 1, 100.5) is None
    assert POLICY.next_attempt(0.0, 1, 100.0) is None  # failed at the window's very end
    late = [POLICY.next_attempt(0.0, 5, 95.0) for _ in range(200)]
    assert None not in late  # draws past 100 s are moved to it, not given up on...
    assert all(95.0 <= at <= 100.0 for at in late)  # type: ignore[operator]
    assert 100.0 in late and min(late) < 99.0  # type: ignore[type-var]
