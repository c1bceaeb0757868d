"""Staff sessions through real HTTP servers (issue #18, finding 8): replicas sharing the signing
secret accept each other's sessions, a cookie signed with any other key or holding a non-ASCII
byte is refused without an error, sign-out and the absolute and idle expiries end a session on
every replica (as does `hubnet users sign-out` or a new password), sign-ins are throttled per
account and per address with a lockout (`hubnet users unlock` lifts it) and every failure audited
to fh.audit, the cookie is Secure behind a trusted TLS proxy, and "no such
family" reads exactly as "outside your hub area"."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
import time
from ipaddress import ip_network
from pathlib import Path

import httpx
import orjson
import pytest

from schemas.audit import AuditRecord
from schemas.topics import AUDIT
from services.timeline.access import NOT_OPEN
from services.timeline.audit_store import AuditStore
from services.web.signin import SessionRules
from tests.security.staff_servers import County, csrf_of, make_county, replica, sign_in, sign_out, with_cookie
from tests.unit.timeline.events import TENDRING
from tests.unit.timeline.world import PASSWORD

pytestmark = pytest.mark.security
COOKIE = "hubnet_session"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def county(tmp_path: Path) -> County:
    return make_county(tmp_path)


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=10)


def signed_in(base: str, user: str = "hv") -> httpx.Client:
    browser = client(base)
    assert sign_in(browser, user).status_code == 303
    return browser


def audited(county: County, action: str) -> list[AuditRecord]:
    """The records the replicas published on fh.audit for `action`."""
    records = [AuditRecord.from_bytes(m.value) for m in county.published.on(AUDIT)]
    return [r for r in records if r.action == action]


def forge(payload: dict[str, object], key: bytes) -> str:
    body = base64.urlsafe_b64encode(orjson.dumps(payload))
    return f"{body.decode()}.{hmac.new(key, body, hashlib.sha256).hexdigest()}"


def test_replicas_sharing_the_secret_accept_each_others_sessions(county: County) -> None:
    with replica(county) as first, replica(county) as second:
        browser = signed_in(first)
        cookie = browser.cookies[COOKIE]
        assert with_cookie(second, f"{COOKIE}={cookie}").get("/v1/families/f1").status_code == 200
        assert with_cookie(second, f"{COOKIE}={cookie}").get("/").status_code == 200


def test_a_cookie_signed_with_any_other_key_is_refused(county: County) -> None:
    with replica(county) as base:
        browser = signed_in(base, "sw")
        genuine = base64.urlsafe_b64decode(browser.cookies[COOKIE].rsplit(".", 1)[0])
        for key in (b"another-key-entirely-32-bytes-ok", b"", b"m" * 32):
            forged = with_cookie(base, f"{COOKIE}={forge(orjson.loads(genuine), key)}")
            assert forged.get("/v1/families/f1").status_code == 401
            page = forged.get("/families/f1")
            assert (page.status_code, page.headers["location"]) == (303, "/sign-in?next=/families/f1")
    with replica(county, secret=b"a-replica-with-a-key-of-its-own!") as stranger:
        assert (
            with_cookie(stranger, f"{COOKIE}={browser.cookies[COOKIE]}").get("/v1/search").status_code == 401
        )


@pytest.mark.parametrize("tail", [b"\xff", "é".encode(), b"\x80\x81.abc", "Ω".encode()])
def test_a_non_ascii_byte_in_the_session_cookie_gives_the_sign_in_page(county: County, tail: bytes) -> None:
    with replica(county) as base:
        genuine = signed_in(base).cookies[COOKIE]
        for cookie in (genuine[:-1].encode() + tail, tail, b"x." + tail):
            visitor = with_cookie(base, b"hubnet_session=" + cookie)
            assert visitor.get("/sign-in").status_code == 200
            assert visitor.get("/families/f1").status_code == 303
            assert visitor.get("/v1/families/f1").status_code == 401


def test_sign_out_ends_the_session_and_its_old_cookie_opens_nothing_on_any_replica(county: County) -> None:
    with replica(county) as first, replica(county) as second:
        browser = signed_in(first)
        old = f"{COOKIE}={browser.cookies[COOKIE]}"
        assert sign_out(browser).status_code == 303
        for base in (first, second):
            assert with_cookie(base, old).get("/v1/families/f1").status_code == 401
            assert with_cookie(base, old).get("/families/f1").status_code == 303


def test_a_session_ends_at_its_absolute_expiry_however_busy(county: County) -> None:
    rules = SessionRules(absolute_s=2.5, idle_s=60)
    with replica(county, rules=rules) as base:
        browser = signed_in(base)
        cookie = f"{COOKIE}={browser.cookies[COOKIE]}"
        started = time.monotonic()
        while time.monotonic() - started < 2.0:  # busy all along: a page every 0.2 s
            assert browser.get("/families/f1").status_code == 200
            time.sleep(0.2)
        time.sleep(max(0.0, 2.7 - (time.monotonic() - started)))
        assert browser.get("/families/f1").status_code == 303
        assert with_cookie(base, cookie).get("/v1/families/f1").status_code == 401


def test_an_idle_session_ends_after_the_idle_timeout(county: County) -> None:
    with replica(county, rules=SessionRules(idle_s=1.5)) as base:
        browser = signed_in(base)
        for _ in range(4):  # activity keeps it open past the idle timeout...
            time.sleep(0.6)
            assert browser.get("/v1/families/f1").status_code == 200
        time.sleep(1.8)  # ...and silence ends it
        assert browser.get("/v1/families/f1").status_code == 401


def test_an_account_is_locked_after_repeated_failures_and_every_failure_is_audited(county: County) -> None:
    with replica(county, rules=SessionRules(max_failures=3, lockout_s=60)) as base:
        browser = client(base)
        assert [sign_in(browser, "hv", "wrong password!").status_code for _ in range(3)] == [401] * 3
        locked = sign_in(browser, "hv")  # the right password, too late
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert int(locked.headers["retry-after"]) > 0
        assert sign_in(client(base), "sw").status_code == 303  # another account is not locked
        basic = client(base).get("/v1/families/f1", auth=("hv", "correct horse"))
        assert basic.status_code == 429  # the API's door is the same door
    records = audited(county, "staff.sign-in")
    expected = [("hv", "denied")] * 4 + [("sw", "allowed"), ("hv", "denied")]
    assert [(r.actor, r.outcome) for r in records] == expected
    refusals = [r for r in records if r.outcome == "denied"]
    assert sum("locked out" in (r.reason or "") for r in refusals) == 2
    assert all("127.0.0.1" in (r.reason or "") for r in refusals)


def test_a_session_that_starts_or_is_signed_out_is_audited_with_door_and_address(county: County) -> None:
    with replica(county) as base:
        browser = signed_in(base, "hv")
        assert browser.get("/v1/families/f1").status_code == 200
        assert client(base).get("/v1/families/f1", auth=("sw", PASSWORD)).status_code == 200
        assert sign_out(browser).status_code == 303
        again = {"csrf": csrf_of(browser.get("/sign-in").text)}
        assert browser.post("/sign-out", data=again).status_code == 303  # signed out: nothing to audit
    [started] = audited(county, "staff.sign-in")  # HTTP Basic starts no session: its reads are audited
    [ended] = audited(county, "staff.sign-out")
    for record in (started, ended):
        assert (record.actor, record.actor_role, record.target, record.outcome) == (
            "hv", "health-visitor", "hv", "allowed")  # fmt: skip
    assert started.reason == "signed in (sign-in page, client 127.0.0.1)"
    assert ended.reason == "signed out (client 127.0.0.1)"


def test_http_basic_failures_count_towards_the_lockout(county: County) -> None:
    with replica(county, rules=SessionRules(max_failures=2, lockout_s=60)) as base:
        api = client(base)
        assert api.get("/v1/families/f1", auth=("sw", "not the password")).status_code == 401
        assert api.get("/v1/families/f1", auth=("sw", "not the password")).status_code == 401
        assert api.get("/v1/families/f1", auth=("sw", "correct horse")).status_code == 429
        assert sign_in(client(base), "sw").status_code == 429
    assert len(audited(county, "staff.sign-in")) == 4


def test_a_client_address_is_locked_after_failures_on_many_accounts(county: County) -> None:
    proxy = ip_network("127.0.0.1/32")
    rules = SessionRules(max_failures=5, max_failures_per_address=3, trusted_proxies=(proxy,))
    behind = {"X-Forwarded-For": "203.0.113.9"}
    with replica(county, rules=rules) as base:
        browser = client(base)
        for user in ("nobody", "hv", "sw"):
            assert sign_in(browser, user, "guessing-passwords", **behind).status_code == 401
        assert sign_in(client(base), "far-hv", **behind).status_code == 429
        assert sign_in(client(base), "far-hv", **{"X-Forwarded-For": "198.51.100.4"}).status_code == 303
    [unknown] = [r for r in audited(county, "staff.sign-in") if r.actor == "unknown-user"]
    assert "nobody" not in unknown.model_dump_json()  # a typed name matching no account is never kept
    assert "203.0.113.9" in (unknown.reason or "")


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy_and_only_then(county: County) -> None:
    tls = {"X-Forwarded-Proto": "https"}
    trusting = SessionRules(trusted_proxies=(ip_network("127.0.0.0/8"),))
    with replica(county, rules=trusting) as base:
        assert "secure" in client(base).get("/sign-in", headers=tls).headers["set-cookie"].lower()
        assert "secure" not in client(base).get("/sign-in").headers["set-cookie"].lower()
    elsewhere = SessionRules(trusted_proxies=(ip_network("10.0.0.0/8"),))
    with replica(county, rules=elsewhere) as base:
        assert "secure" not in client(base).get("/sign-in", headers=tls).headers["set-cookie"].lower()


def test_no_such_family_and_outside_your_area_get_one_answer_and_the_audit_the_real_reason(
    county: County,
) -> None:
    with replica(county) as base:
        browser = signed_in(base)
        api = [browser.get(f"/v1/families/{f}/timeline") for f in ("f3", "no-such-family")]
        assert [(r.status_code, r.json()) for r in api] == [(403, {"detail": NOT_OPEN})] * 2
        pages = [browser.get(f"/families/{f}") for f in ("f3", "no-such-family")]
        assert [p.status_code for p in pages] == [403, 403]
        assert pages[0].text == pages[1].text
        assert NOT_OPEN.split(":")[0] in pages[0].text
    trail = AuditStore.open(county.audit)
    reasons = {
        (r["target"], r["reason"]) for r in trail.audit_rows(actor="hv", limit=20) if r["outcome"] == "denied"
    }
    trail.close()
    assert ("no-such-family", "no such family") in reasons
    assert ("f3", "the family lives outside your hub area(s)") in reasons


def hubnet_users(county: County, *args: str) -> str:
    """`hubnet users ...` as an administrator runs it, on the stores the replicas use."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBNET_", "KAFKA_"))}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "users", *args],
        cwd=REPO, env={**env, "HUBNET_DATA_DIR": str(county.users.parent), "COLUMNS": "200"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_an_administrator_signs_a_user_out_everywhere_and_a_new_password_ends_old_sessions(
    county: County,
) -> None:
    with replica(county) as first, replica(county) as second:
        on_first, on_second = signed_in(first), signed_in(second)
        assert "2 session(s) of hv ended" in hubnet_users(county, "sign-out", "hv", "--by", "admin-ann")
        assert on_first.get("/v1/families/f1").status_code == 401
        assert on_second.get("/v1/families/f1").status_code == 401
        assert "0 session(s) of hv ended" in hubnet_users(county, "sign-out", "hv", "--by", "admin-ann")
        again = signed_in(first)
        hubnet_users(
            county,
            "add",
            "hv",
            "--role",
            "health-visitor",
            "--area",
            TENDRING,
            "--password",
            "a new password!",
        )
        assert again.get("/v1/families/f1").status_code == 401
    trail = AuditStore.open(county.audit)
    rows = [r for r in trail.audit_rows(actor="admin-ann") if r["action"] == "staff.sign-out"]
    trail.close()
    assert [(r["target"], r["outcome"], r["reason"]) for r in rows] == [
        ("hv", "allowed", "0 session(s) ended by an administrator (hubnet users sign-out)"),
        ("hv", "allowed", "2 session(s) ended by an administrator (hubnet users sign-out)"),
    ]  # newest first: who signed whom out, and how many sessions each time


def test_replacing_an_account_ends_its_sessions_and_the_audit_says_who_whose_how_many_and_why(
    county: County,
) -> None:
    """`hubnet users add` over an existing account ends its sessions on every replica, audited as
    `hubnet users sign-out` is; a new account has no session to end, so nothing is recorded."""
    add = ("--role", "health-visitor", "--area", TENDRING, "--password", PASSWORD, "--by", "admin-bob")
    with replica(county) as first, replica(county) as second:
        on_first, on_second = signed_in(first), signed_in(second)
        assert "2 earlier session(s) of hv ended" in hubnet_users(county, "add", "hv", *add)
        assert on_first.get("/v1/families/f1").status_code == 401
        assert on_second.get("/v1/families/f1").status_code == 401
        assert "ended" not in hubnet_users(county, "add", "new-hv", *add)
    trail = AuditStore.open(county.audit)
    rows = [r for r in trail.audit_rows(actor="admin-bob") if r["action"] == "staff.sign-out"]
    trail.close()
    assert [(r["target"], r["outcome"], r["reason"]) for r in rows] == [
        ("hv", "allowed", "2 session(s) ended: the account was replaced (hubnet users add)"),
    ]


def test_an_administrator_lifts_an_account_lockout(county: County) -> None:
    with replica(county, rules=SessionRules(max_failures=2, lockout_s=600)) as base:
        for _ in range(2):
            assert sign_in(client(base), "sw", "wrong password!").status_code == 401
        assert sign_in(client(base), "sw").status_code == 429
        hubnet_users(county, "unlock", "sw")
        assert sign_in(client(base), "sw").status_code == 303


def test_oidc_identity_headers_count_only_from_a_trusted_proxy(county: County) -> None:
    claims = {"X-Auth-Request-User": "mallory", "X-Hubnet-Role": "social-worker", "X-Hubnet-Areas": TENDRING}
    elsewhere = SessionRules(trusted_proxies=(ip_network("10.0.0.0/8"),))
    with replica(county, rules=elsewhere, trust_proxy=True) as base:
        assert client(base).get("/v1/families/f1", headers=claims).status_code == 401
    loopback = SessionRules(trusted_proxies=(ip_network("127.0.0.1/32"),))
    with replica(county, rules=loopback, trust_proxy=True) as base:
        assert client(base).get("/v1/families/f1", headers=claims).status_code == 200
