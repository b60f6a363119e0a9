DROP TRIGGER audit_events_notify_relay ON audit_events;
DROP FUNCTION audit_events_notify_relay();
DROP TRIGGER audit_events_no_truncate ON audit_events;
DROP TRIGGER audit_events_append_only ON audit_events;
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_payload_has_id,
    DROP COLUMN published_time,
    DROP COLUMN event_payload,
    DROP COLUMN event_id;
