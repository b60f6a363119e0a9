DROP VIEW payment_outbox;
DROP TABLE outbox_cursor;
DROP TABLE payment_movements;
DROP FUNCTION payment_movements_follow();
DROP FUNCTION payment_movements_append_only();
DROP TABLE payments;
DROP TABLE idempotency_keys;
