-- The transactional outbox. Every audit row is also the event that other
-- services learn of the change from: it gains the event's id and its encoded
-- protobuf message (orders.v1 events.proto), written in the same statement
-- as the rest of the row, so a committed change always has its event and a
-- rolled-back one never does. The outbox relay publishes pending rows to
-- NATS JetStream in id order and then sets `published_time`.
--
-- `event_id` is a UUIDv7 the server makes, unique by construction; it has no
-- unique index because every order would pay for one.
--
-- Rows written before this migration have no event (event_payload NULL) and
-- are never published: their changes happened before anyone could listen.
ALTER TABLE audit_events
    ADD COLUMN event_id       uuid,
    ADD COLUMN event_payload  bytea,
    ADD COLUMN published_time timestamptz,
    ADD CONSTRAINT audit_events_payload_has_id CHECK (event_payload IS NULL OR event_id IS NOT NULL);

-- What the relay reads: the pending events, oldest first. Rows leave the
-- index when they are published, so it stays as small as the backlog.
CREATE INDEX audit_events_unpublished_idx ON audit_events (id)
    WHERE published_time IS NULL AND event_payload IS NOT NULL;

-- What the purge job reads: published events whose payload is still kept.
-- Rows enter it only when published, so placing an order never touches it.
CREATE INDEX audit_events_purgeable_idx ON audit_events (published_time)
    WHERE published_time IS NOT NULL AND event_payload IS NOT NULL;

-- Still append-only for everything the trail says; the outbox bookkeeping is
-- the one change allowed: `published_time` may be set once, and a published
-- event's payload may be dropped (the purge job; the audit row stays).
DROP TRIGGER audit_events_append_only ON audit_events;
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
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Wakes the relay when events commit (NOTIFY is delivered at commit, and
-- only then; several in one transaction are folded into one).
CREATE FUNCTION audit_events_notify_relay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orders_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_events_notify_relay
    AFTER INSERT ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_notify_relay();
