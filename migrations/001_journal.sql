-- The usage journal (format documented in docs/JOURNAL.md).
-- events: every usage event and alias to deliver, in append order.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid           TEXT    NOT NULL UNIQUE,          -- UUIDv7, sent unchanged on every retry
    timestamp      TEXT    NOT NULL,                 -- RFC 3339 UTC with milliseconds, fixed at append
    created_ms     INTEGER NOT NULL,                 -- Unix ms at append (retention, ages)
    kind           TEXT    NOT NULL CHECK (kind IN ('event', 'alias')),
    event          TEXT    NOT NULL,
    distinct_id    TEXT    NOT NULL,
    anon_id        TEXT    NOT NULL,                 -- the anonymous id current at append time
    needs_identity INTEGER NOT NULL DEFAULT 0,       -- 1: logged in but not yet linked; shipper resolves
    properties     TEXT    NOT NULL,                 -- JSON object, without $process_person_profile
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    sent_ms        INTEGER,
    dead_reason    TEXT
);
CREATE INDEX events_by_state ON events (state, seq);

-- identity: transitions of this machine's identity; the last row is current.
CREATE TABLE identity (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid         TEXT    NOT NULL,
    timestamp    TEXT    NOT NULL,
    transition   TEXT    NOT NULL CHECK (transition IN ('created', 'imported', 'linked', 'rotated')),
    anon_id      TEXT    NOT NULL,
    principal_id TEXT
);

-- settings: persisted choices and shipper bookkeeping (key → text).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- counters: drop counts shown by `usage status`, and the pending count kept
-- by triggers so the 10,000-row cap is checked without a scan.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('pending', 0), ('dropped_cap', 0), ('dropped_age', 0), ('pruned_sent', 0);

CREATE TRIGGER events_pending_insert AFTER INSERT ON events WHEN NEW.state = 'pending'
BEGIN UPDATE counters SET value = value + 1 WHERE name = 'pending'; END;
CREATE TRIGGER events_pending_delete AFTER DELETE ON events WHEN OLD.state = 'pending'
BEGIN UPDATE counters SET value = value - 1 WHERE name = 'pending'; END;
CREATE TRIGGER events_pending_leave AFTER UPDATE OF state ON events WHEN OLD.state = 'pending' AND NEW.state <> 'pending'
BEGIN UPDATE counters SET value = value - 1 WHERE name = 'pending'; END;
CREATE TRIGGER events_pending_enter AFTER UPDATE OF state ON events WHEN OLD.state <> 'pending' AND NEW.state = 'pending'
BEGIN UPDATE counters SET value = value + 1 WHERE name = 'pending'; END;
