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
