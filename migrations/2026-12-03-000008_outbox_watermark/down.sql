DROP TRIGGER audit_events_append_only ON audit_events;
DROP VIEW outbox_backlog;
ALTER TABLE audit_events ADD COLUMN published_time timestamptz;
UPDATE audit_events a SET published_time = c.update_time
FROM outbox_cursor c
WHERE a.event_payload IS NOT NULL AND (a.transaction_id, a.id) <= (c.transaction_id, c.row_id);
DROP INDEX audit_events_outbox_idx;
ALTER TABLE audit_events DROP COLUMN transaction_id;
DROP TABLE outbox_cursor;
CREATE INDEX audit_events_unpublished_idx ON audit_events (id)
    WHERE published_time IS NULL AND event_payload IS NOT NULL;
CREATE INDEX audit_events_purgeable_idx ON audit_events (published_time)
    WHERE published_time IS NOT NULL AND event_payload IS NOT NULL;
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'published_time' - 'event_payload') = (to_jsonb(OLD) - 'published_time' - 'event_payload')
       AND (OLD.published_time IS NULL OR NEW.published_time IS NOT DISTINCT FROM OLD.published_time)
       AND (NEW.event_payload IS NOT DISTINCT FROM OLD.event_payload
            OR (NEW.event_payload IS NULL AND NEW.published_time IS NOT NULL)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
