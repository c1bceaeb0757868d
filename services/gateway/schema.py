"""The gateway store's tables (partners and their keys, item statuses, the file-drop ledger) as
numbered migrations, so `hubnet migrate` applies and records them as it does every other store's.

Version 1 is the schema the store had before migrations: its DDL is idempotent, so a store made
before migrations existed is adopted as it is. Every gateway repository applies what is pending
when it opens (a no-op after the first); add a version here, never edit an applied one.
"""

from __future__ import annotations

from services.stores.migrations import Migration

MIGRATIONS = (
    Migration(
        1,
        "partners, api keys, item statuses, file ledger",
        """
CREATE TABLE IF NOT EXISTS partners (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org_ids TEXT NOT NULL,
    sender_ids TEXT NOT NULL,
    formats TEXT NOT NULL,
    event_types TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    partner TEXT NOT NULL REFERENCES partners(code),
    salt BLOB NOT NULL,
    digest BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_partner ON api_keys(partner);
CREATE TABLE IF NOT EXISTS item_status (
    item_id TEXT PRIMARY KEY,
    partner TEXT NOT NULL,
    state TEXT NOT NULL,
    event_type TEXT,
    reason TEXT,
    location TEXT,
    record_ref TEXT,
    trace_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drop_files (
    partner TEXT NOT NULL,
    format TEXT NOT NULL,
    digest TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    report TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (partner, format, digest)
);
""",
    ),
    Migration(
        2,
        "file ledger counts attempts, so a file the watcher died on is set aside",
        "ALTER TABLE drop_files ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
    ),
    Migration(
        3,
        "item statuses keep a digest of the accepted content, so a changed resend is refused",
        "ALTER TABLE item_status ADD COLUMN digest TEXT",
    ),
    Migration(
        4,
        "partners say whose consent decisions they may record (none until granted)",
        "ALTER TABLE partners ADD COLUMN consent_for TEXT NOT NULL DEFAULT '[]'",
    ),
)
