-- The outbox relay's progress becomes one watermark on commit order instead
-- of a mark on every row. Setting `published_time` on each event cost
-- CreateOrder a second write of its audit row (a non-HOT UPDATE with new
-- index entries, on the same WAL) and an index entry that came and went;
-- now an event is written once and never touched by the relay.
--
-- Each audit row carries the id of the transaction that wrote it
-- (`pg_current_xact_id()`, an xid8, which never wraps; kept as bigint). The
-- relay publishes rows in (transaction_id, id) order, but only those whose
-- transaction id is below its snapshot's xmin: every transaction older than
-- that has ended, so no row can still appear behind the watermark, and no
-- event is ever skipped. `outbox_cursor` holds the last row published.
--
-- Rows written before this migration: the published ones (and those that
-- never had an event) get transaction id 1, the ones still waiting 2, and
-- the cursor starts after every row of 1; real transaction ids are larger
-- (the first normal one is 3), so the waiting rows go out first, in id order.

DROP TRIGGER audit_events_append_only ON audit_events;

ALTER TABLE audit_events ADD COLUMN transaction_id bigint NOT NULL DEFAULT 1;
UPDATE audit_events SET transaction_id = 2 WHERE published_time IS NULL AND event_payload IS NOT NULL;
ALTER TABLE audit_events ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id()::text::bigint;

CREATE TABLE outbox_cursor (
    -- One row: the position of the last event the relay published.
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    transaction_id bigint NOT NULL,
    row_id         bigint NOT NULL,
    update_time    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO outbox_cursor (transaction_id, row_id) VALUES (1, 9223372036854775807);

DROP INDEX audit_events_unpublished_idx;
DROP INDEX audit_events_purgeable_idx;
ALTER TABLE audit_events DROP COLUMN published_time;

-- What the relay reads (the rows past the cursor) and what the purge reads
-- (the oldest rows still holding a payload). Inserts land on its right edge;
-- a purged row leaves it.
CREATE INDEX audit_events_outbox_idx ON audit_events (transaction_id, id) WHERE event_payload IS NOT NULL;

-- The events not yet published, for people and scripts:
-- `SELECT count(*) FROM outbox_backlog`.
CREATE VIEW outbox_backlog AS
SELECT a.*
FROM audit_events a, outbox_cursor c
WHERE a.event_payload IS NOT NULL AND (a.transaction_id, a.id) > (c.transaction_id, c.row_id);

-- Still append-only for everything the trail says; the one change allowed
-- is dropping the payload of an event already published (the purge job).
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'event_payload') = (to_jsonb(OLD) - 'event_payload')
       AND NEW.event_payload IS NULL
       AND (OLD.transaction_id, OLD.id) <= (SELECT c.transaction_id, c.row_id FROM outbox_cursor c) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
