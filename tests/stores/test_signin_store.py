"""Session records and sign-in failure counters on SQLite and PostgreSQL: what every API replica
reads to decide whether a cookie still opens anything, and whether a sign-in may be tried."""

from __future__ import annotations

from services.web.signin_store import Limit, SignInStore, digest
from tests.databases import Backend

HOUR = 3600.0


def test_a_session_lives_until_signed_out_idle_or_past_its_absolute_expiry(backend: Backend) -> None:
    store, other_replica = backend.open(SignInStore), backend.open(SignInStore)
    assert store.start("sid-1", "hv", 1000.0, 8 * HOUR) == 1000.0 + 8 * HOUR
    assert other_replica.live("sid-1", "hv", 1100.0, idle_s=HOUR)
    assert not other_replica.live("sid-1", "someone-else", 1100.0, idle_s=HOUR)
    assert not store.live("sid-unknown", "hv", 1100.0, idle_s=HOUR)
    store.end("sid-1", 1200.0)
    assert not other_replica.live("sid-1", "hv", 1201.0, idle_s=HOUR)

    store.start("sid-2", "hv", 1000.0, 8 * HOUR)
    for minute in range(1, 8 * 60, 20):  # busy every 20 minutes: never idle...
        assert store.live("sid-2", "hv", 1000.0 + minute * 60, idle_s=HOUR)
    assert not store.live("sid-2", "hv", 1000.0 + 8 * HOUR, idle_s=HOUR)  # ...but the absolute expiry holds

    store.start("sid-3", "hv", 1000.0, 8 * HOUR)
    assert not store.live("sid-3", "hv", 1000.0 + HOUR, idle_s=HOUR)
    assert not store.live("sid-3", "hv", 1000.0 + 10, idle_s=HOUR), "an ended session stays ended"


def test_session_ids_are_kept_only_as_digests(backend: Backend) -> None:
    store = backend.open(SignInStore)
    store.start("the-session-id", "hv", 1000.0, HOUR)
    keys = [row[0] for row in store._all("SELECT session_key FROM staff_session")]
    assert keys == [digest("the-session-id")]


def test_failures_lock_a_subject_for_the_window_then_count_afresh(backend: Backend) -> None:
    store = backend.open(SignInStore)
    limit = {"user:hv": Limit(3, 600.0), "address:192.0.2.1": Limit(10, 600.0)}
    for second in (0.0, 1.0):
        store.fail(limit, 1000.0 + second)
    assert store.locked_for(["user:hv"], 1002.0) == 0.0
    store.fail(limit, 1002.0)
    assert store.locked_for(["user:hv", "address:192.0.2.1"], 1003.0) == 599.0
    assert store.locked_for(["address:192.0.2.1"], 1003.0) == 0.0
    assert store.locked_for(["user:hv"], 1602.0) == 0.0
    store.fail(limit, 1700.0)  # a new window: one failure, not four
    assert store.locked_for(["user:hv"], 1700.0) == 0.0
    store.clear("user:hv")
    assert not store._all("SELECT 1 FROM signin_failure WHERE subject = ?", (digest("user:hv"),))
    subjects = {row[0] for row in store._all("SELECT subject FROM signin_failure")}
    assert subjects == {digest("address:192.0.2.1")}, "the address keeps its count; no name is kept"


def test_ending_every_session_of_a_user_leaves_other_users_signed_in(backend: Backend) -> None:
    store = backend.open(SignInStore)
    for sid, user in (("a", "hv"), ("b", "hv"), ("c", "sw")):
        store.start(sid, user, 1000.0, HOUR)
    store.end("a", 1001.0)
    assert store.end_all("hv", 1002.0) == 1
    assert not store.live("b", "hv", 1003.0, idle_s=HOUR)
    assert store.live("c", "sw", 1003.0, idle_s=HOUR)


def test_an_openid_sessions_grants_and_token_are_read_back_by_every_replica(backend: Backend) -> None:
    store, other_replica = backend.open(SignInStore), backend.open(SignInStore)
    grants = {"name": "Nina", "role": "hub-practitioner", "areas": ["E07000076"], "id_token": "a.b.c"}
    store.start("sid-oidc", "nina@county.example", 1000.0, HOUR, grants)
    store.start("sid-local", "hv", 1000.0, HOUR)
    record = other_replica.live("sid-oidc", "nina@county.example", 1001.0, idle_s=HOUR)
    assert record is not None
    assert record.openid == grants
    local = other_replica.live("sid-local", "hv", 1001.0, idle_s=HOUR)
    assert local is not None
    assert local.openid is None
    store.end("sid-oidc", 1002.0)
    assert other_replica.live("sid-oidc", "nina@county.example", 1003.0, idle_s=HOUR) is None
