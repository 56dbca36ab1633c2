-- The pending counter is now kept by the journal code (src/store/journal.cpp,
-- every statement that moves rows in or out of 'pending' adjusts it by the
-- rows it changed) instead of by triggers: SQLite parses every trigger each
-- time a process opens the journal and compiles them into every statement on
-- events, ~150k instructions of each tracked command (docs/PERFORMANCE.md).
DROP TRIGGER IF EXISTS events_pending_insert;
DROP TRIGGER IF EXISTS events_pending_delete;
DROP TRIGGER IF EXISTS events_pending_leave;
DROP TRIGGER IF EXISTS events_pending_enter;
UPDATE counters SET value = (SELECT COUNT(*) FROM events WHERE state = 'pending') WHERE name = 'pending';
