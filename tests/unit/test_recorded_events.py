"""The webhook service's memory of committed events: bounded, least recently seen first out."""

import pytest

from shopbot.webhook.recorded_events import RecordedEvents


def test_remembers_by_uuid_and_status() -> None:
    events = RecordedEvents(capacity=10)
    events.remember("u-1", "paid")

    assert events.seen("u-1", "paid")
    assert not events.seen("u-1", "paid_over")  # another status is another event
    assert not events.seen("u-2", "paid")


def test_the_least_recently_seen_leaves_first() -> None:
    events = RecordedEvents(capacity=2)
    events.remember("a", "paid")
    events.remember("b", "paid")
    assert events.seen("a", "paid")  # now b is the least recently seen
    events.remember("c", "paid")

    assert (events.seen("a", "paid"), events.seen("b", "paid"), events.seen("c", "paid")) == (
        True,
        False,
        True,
    )
    assert len(events) == 2


def test_capacity_must_hold_something() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RecordedEvents(capacity=0)


def test_a_body_is_known_by_its_exact_bytes() -> None:
    events = RecordedEvents(capacity=10)
    body = b'{"uuid":"u-1","status":"paid","sign":"abc"}'
    events.remember("u-1", "paid", body)

    assert events.seen_body(body)
    assert not events.seen_body(body + b" ")  # one byte more is another body
    assert not events.seen_body(body.replace(b"abc", b"abd"))
    assert events.seen("u-1", "paid")


def test_an_event_remembered_without_its_body_is_not_known_by_bytes() -> None:
    events = RecordedEvents(capacity=10)
    events.remember("u-1", "paid")

    assert not events.seen_body(b'{"uuid":"u-1","status":"paid"}')


def test_bodies_are_bounded_like_events() -> None:
    events = RecordedEvents(capacity=2)
    for n in range(3):
        events.remember(f"u-{n}", "paid", f"body {n}".encode())

    assert [events.seen_body(f"body {n}".encode()) for n in range(3)] == [False, True, True]
