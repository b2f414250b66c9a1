"""The Heleket client's circuit breaker, on a fake clock."""

import pytest

from shopbot.adapters.heleket.breaker import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def tripped(clock: Clock, threshold: int = 3, cooldown: float = 30.0) -> CircuitBreaker:
    breaker = CircuitBreaker(threshold, cooldown, clock)
    for _ in range(threshold):
        breaker.before_call()
        breaker.on_failure()
    return breaker


def test_closed_until_threshold_consecutive_failures(clock: Clock) -> None:
    breaker = CircuitBreaker(3, 30.0, clock)
    for _ in range(2):
        assert breaker.before_call() is False
        breaker.on_failure()
    assert breaker.state == "closed"
    breaker.before_call()
    breaker.on_failure()
    assert breaker.state == "open"


def test_a_success_resets_the_failure_count(clock: Clock) -> None:
    breaker = CircuitBreaker(3, 30.0, clock)
    for _ in range(10):
        breaker.on_failure()
        breaker.on_failure()
        breaker.on_success()
    assert breaker.state == "closed"


def test_open_fails_fast_until_the_cooldown(clock: Clock) -> None:
    breaker = tripped(clock)
    clock.now += 10
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    assert caught.value.retry_after == pytest.approx(20.0)
    assert "retry in 20.0s" in str(caught.value)
    clock.now += 19.9
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_half_open_lets_one_trial_through(clock: Clock) -> None:
    breaker = tripped(clock)
    clock.now += 30
    assert breaker.state == "half_open"
    assert breaker.before_call() is True
    with pytest.raises(CircuitOpen) as caught:  # the trial is still in flight
        breaker.before_call()
    assert caught.value.retry_after == 0.0
    assert breaker.state == "half_open"


def test_a_successful_trial_closes(clock: Clock) -> None:
    breaker = tripped(clock)
    clock.now += 30
    breaker.before_call()
    breaker.on_success()
    assert breaker.state == "closed"
    breaker.on_failure()
    breaker.on_failure()
    assert breaker.state == "closed"  # the count started again


def test_a_failed_trial_reopens_for_a_full_cooldown(clock: Clock) -> None:
    breaker = tripped(clock)
    clock.now += 45
    breaker.before_call()
    breaker.on_failure()
    assert breaker.state == "open"
    clock.now += 29
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 1
    assert breaker.before_call() is True


def test_an_abandoned_trial_frees_the_slot(clock: Clock) -> None:
    breaker = tripped(clock)
    clock.now += 30
    trial = breaker.before_call()
    breaker.on_abandon(trial)
    assert breaker.before_call() is True


def test_abandoning_a_non_trial_call_keeps_the_trial_slot(clock: Clock) -> None:
    breaker = tripped(clock)
    clock.now += 30
    assert breaker.before_call() is True
    breaker.on_abandon(False)
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_zero_cooldown_goes_straight_to_half_open(clock: Clock) -> None:
    breaker = tripped(clock, threshold=1, cooldown=0)
    assert breaker.state == "half_open"
    assert breaker.before_call() is True


@pytest.mark.parametrize(("threshold", "cooldown"), [(0, 1.0), (1, -1.0)])
def test_invalid_settings_are_refused(threshold: int, cooldown: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold, cooldown)


def test_state_changes_are_published_once_each(clock: Clock) -> None:
    breaker = CircuitBreaker(2, 30.0, clock)
    seen: list[str] = []
    breaker.on_change = seen.append
    breaker.before_call()
    breaker.on_failure()
    assert seen == []  # one failure of two: still closed
    breaker.before_call()
    breaker.on_failure()
    clock.now += 31
    assert breaker.before_call() is True  # the trial call
    breaker.on_success()
    assert seen == ["open", "half_open", "closed"]
