"""Exactly once, proven from outside the bot: from the Telegram emulator's records (every
webhook attempt, every Bot API call with its parameters and answer) and from the shop's
database. Each check returns figures for the report and raises AssertionError with the
offending records."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from shopbot.demo.transcript import plain
from tests.docker.live.load import HELP, WELCOME, Played

RETRY_AFTER = re.compile(r"retry after (\d+)")
SENDS = ("sendMessage", "editMessageText")


def updates_answered_once(
    deliveries: list[dict[str, Any]], first: int, expected: int
) -> dict[str, Any]:
    """Every update from `first` on was delivered until answered 2xx and never given up;
    there are `expected` of them. Returns attempt figures."""
    by_update: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for attempt in deliveries:
        if int(attempt["update_id"]) >= first:
            by_update[int(attempt["update_id"])].append(attempt)
    unanswered = {u: a[-1] for u, a in by_update.items() if not a[-1]["ok"]}
    assert unanswered == {}, unanswered
    assert [a for attempts in by_update.values() for a in attempts if a.get("gave_up")] == []
    assert len(by_update) == expected, (len(by_update), expected)
    failed = [a for attempts in by_update.values() for a in attempts if not a["ok"]]
    return {
        "updates": len(by_update),
        "attempts": sum(len(a) for a in by_update.values()),
        "redelivered updates": sum(1 for a in by_update.values() if len(a) > 1),
        "most attempts of one update": max(len(a) for a in by_update.values()),
        "failed attempts by status": dict(Counter(str(a["status"]) for a in failed)),
    }


def replies_once(calls: list[dict[str, Any]], played: list[Played]) -> None:
    """Each /start and /help got exactly one answer (sendMessage to that chat with the
    welcome or help text) and each pressed button's callback query exactly one
    answerCallbackQuery: a redelivered update that had been handled is not handled again."""
    welcome: Counter[int] = Counter()
    helped: Counter[int] = Counter()
    answered: Counter[str] = Counter()
    for call in calls:
        if not call["ok"]:
            continue
        params = call["params"]
        if call["method"] == "sendMessage":
            text = plain(str(params.get("text", "")))
            if WELCOME in text:
                welcome[int(params["chat_id"])] += 1
            elif HELP in text:
                helped[int(params["chat_id"])] += 1
        elif call["method"] == "answerCallbackQuery":
            answered[str(params["callback_query_id"])] += 1
    wrong = {
        p.user_id: (welcome[p.user_id], helped[p.user_id])
        for p in played
        if (welcome[p.user_id], helped[p.user_id])
        != (p.commands.get("/start", 0), p.commands.get("/help", 0))
    }
    assert wrong == {}, f"customer: (welcomes, helps) sent other than once per command: {wrong}"
    pressed = [q for p in played for q in p.queries]
    not_once = {q: answered[q] for q in pressed if answered[q] != 1}
    assert not_once == {}, f"callback queries answered other than once: {not_once}"


def deliveries_once(
    calls: list[dict[str, Any]], played: list[Played], orders: dict[int, int]
) -> None:
    """Every order shown to its buyer exactly once (one edit of the pressed message with
    `Order #<id>:`), and the orders the customers saw are exactly the shop's orders of
    those customers (`orders`: order id -> buyer)."""
    shown: Counter[int] = Counter()
    for call in calls:
        if call["ok"] and call["method"] in SENDS:
            found = re.search(r"Order #(\d+):", plain(str(call["params"].get("text", ""))))
            if found:
                shown[int(found.group(1))] += 1
    seen = {order: p.user_id for p in played for order in p.orders}
    assert seen == orders, sorted(set(seen) ^ set(orders))
    not_once = {o: shown[o] for o in orders if shown[o] != 1}
    assert not_once == {}, f"orders shown other than once: {not_once}"


def failures_explained(
    deliveries: list[dict[str, Any]], calls: list[dict[str, Any]], since: float, until: float
) -> list[dict[str, Any]]:
    """Attempts that failed between `since` and `until` (epoch seconds) other than those
    whose handler met a 429 for that user's chat (refused sends are redelivered: the
    flood limit's doing, not the fault's) and those the shop deferred (bot/deferrals.py:
    429 from its global rate limit, 409 while another instance handles the update;
    Telegram delivers them again)."""
    refused: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        if call.get("error_code") == 429 and "chat_id" in call["params"]:
            refused[int(call["params"]["chat_id"])].append(float(call["at"]))
    unexplained = []
    for attempt in deliveries:
        at = float(attempt["at"])
        if attempt["ok"] or not since <= at <= until or attempt.get("status") in (409, 429):
            continue
        user = attempt.get("from_id")
        if user is None or not any(at <= t <= at + 60 for t in refused.get(int(user), [])):
            unexplained.append(attempt)
    return unexplained


def broadcast_once(
    calls: list[dict[str, Any]], text: str, states: dict[int, str], batch: int, interruptions: int
) -> dict[str, Any]:
    """The broadcast `text` reached every recipient SENT exactly once, no UNKNOWN one more
    than once, nobody outside the audience; no recipient is left PENDING or SENDING, none
    FAILED; at most `interruptions` batches are UNKNOWN (at most once by design: a batch in
    flight when its worker died is never sent again). Every 429 was followed by a resend
    to the same chat no sooner than its retry_after (or the recipient is UNKNOWN)."""
    received: Counter[int] = Counter()
    refused: list[tuple[int, float, int]] = []
    resent: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        if call["method"] != "sendMessage" or call["params"].get("text") != text:
            continue
        chat = int(call["params"]["chat_id"])
        if call["ok"]:
            received[chat] += 1
            resent[chat].append(float(call["at"]))
        elif call.get("error_code") == 429:
            asked = RETRY_AFTER.search(str(call.get("description")))
            refused.append((chat, float(call["at"]), int(asked.group(1)) if asked else 1))
    by_state = Counter(states.values())
    assert set(by_state) <= {"sent", "unknown"}, by_state
    assert set(received) <= set(states), set(received) - set(states)
    twice = {u: n for u, n in received.items() if n > 1}
    assert twice == {}, f"recipients messaged more than once: {twice}"
    missing = [u for u, s in states.items() if s == "sent" and received[u] != 1]
    assert missing == [], f"SENT recipients without the message: {missing[:20]}"
    assert by_state["unknown"] <= batch * interruptions, by_state
    unanswered, early = [], []
    for chat, at, wait in refused:
        later = [t for t in resent.get(chat, []) if t > at]
        if not later:
            if states.get(chat) != "unknown":
                unanswered.append((chat, at))
        elif min(later) < at + wait - 0.25:  # the emulator stamps a call as it starts
            early.append((chat, at, wait, min(later)))
    assert unanswered == [], f"429s never followed by a resend: {unanswered}"
    assert early == [], f"resent before retry_after: {early}"
    unknown = [u for u, s in states.items() if s == "unknown"]
    return {
        "recipients": len(states),
        "sent": by_state["sent"],
        "unknown": len(unknown),
        "unknown but delivered": sum(1 for u in unknown if received[u]),
        "gap (unknown, not delivered)": sum(1 for u in unknown if not received[u]),
        "429 answered to the broadcast": len(refused),
    }
