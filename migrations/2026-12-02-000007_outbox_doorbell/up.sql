-- The relay is no longer woken by a NOTIFY inside each transaction that
-- writes events: PostgreSQL serialises the commits of all transactions that
-- NOTIFY (a global lock held through the commit's WAL flush), which halved
-- CreateOrder's throughput (measured with scripts/bench-ab: 2,000 → 960
-- req/s at 16 callers). The server rings instead, after the commit and
-- outside the transaction, at most once per few milliseconds
-- (db/outbox.rs, Doorbell); the relay still LISTENs on the same channel.
DROP TRIGGER audit_events_notify_relay ON audit_events;
DROP FUNCTION audit_events_notify_relay();
