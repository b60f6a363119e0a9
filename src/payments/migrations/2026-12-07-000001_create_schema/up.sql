-- The payment service's own database: payments, their append-only ledger
-- (which is also the service's outbox), and idempotency keys. It never
-- reads another service's database.

-- AIP-155 keys, exactly as in the orders database: the same queries
-- (src/db/idempotency.rs) serve both, and tests/api/schema.rs checks that
-- the two tables are the same.
CREATE TABLE idempotency_keys (
    scope         text        NOT NULL,
    request_id    uuid        NOT NULL,
    request_hash  bytea       NOT NULL,
    response      bytea,
    create_time   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, request_id),
    CONSTRAINT idempotency_keys_hash_length CHECK (octet_length(request_hash) = 32)
);

-- One payment per AuthorizePayment: what was asked for. Everything that
-- happened to it afterwards is in its ledger, payment_movements; its state
-- and amounts follow from there and are never stored here.
CREATE TABLE payments (
    id             uuid        PRIMARY KEY,
    order_id       uuid        NOT NULL,
    customer_id    text        NOT NULL,
    -- The processor's token (`pm_card_visa`), never a card number.
    payment_method text        NOT NULL,
    currency_code  text        NOT NULL,
    -- Amounts are nano units: positive and below 10^9 units, so below 10^18.
    amount_nanos   bigint      NOT NULL,
    create_time    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_amount_range CHECK (amount_nanos > 0 AND amount_nanos < 1000000000000000000),
    CONSTRAINT payments_currency_code_form CHECK (currency_code ~ '^[A-Z]{3}$'),
    CONSTRAINT payments_no_card_number CHECK (regexp_replace(payment_method, '[ -]', '', 'g') !~ '^[0-9]{12,19}$')
);
-- ListPayments (oldest first) and the 20-per-order limit.
CREATE INDEX payments_order_idx ON payments (order_id, create_time, id);

-- The ledger: one row per movement of money, never changed or removed.
-- Each row carries the payment's running totals after it; the CHECKs hold
-- them within bounds (captured + released <= authorized, refunded <=
-- captured), and the trigger below holds each row to its predecessor
-- (gapless sequence, totals = previous + this movement, nothing after a
-- final state). The row is also the movement's event, for the relay.
CREATE TABLE payment_movements (
    payment_id       uuid        NOT NULL REFERENCES payments (id),
    sequence         bigint      NOT NULL,
    kind             text        NOT NULL,
    amount_nanos     bigint      NOT NULL,
    authorized_nanos bigint      NOT NULL,
    captured_nanos   bigint      NOT NULL,
    released_nanos   bigint      NOT NULL,
    refunded_nanos   bigint      NOT NULL,
    -- The request_id of the call that made it.
    request_id       uuid        NOT NULL,
    -- The processor's decline code, for 'failed' only.
    failure_code     text,
    reason           text        NOT NULL DEFAULT '',
    create_time      timestamptz NOT NULL,
    -- The outbox: the relay publishes rows in (transaction_id, id) order
    -- (see src/db/outbox.rs).
    id               bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    transaction_id   bigint      NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    event_id         uuid        NOT NULL UNIQUE,
    event_payload    bytea       NOT NULL,
    trace_parent     text,
    trace_state      text,
    PRIMARY KEY (payment_id, sequence),
    CONSTRAINT payment_movements_kind_known
        CHECK (kind IN ('authorized', 'captured', 'released', 'refunded', 'failed')),
    CONSTRAINT payment_movements_sequence_positive CHECK (sequence >= 1),
    CONSTRAINT payment_movements_amount_range
        CHECK (amount_nanos > 0 AND amount_nanos < 1000000000000000000),
    CONSTRAINT payment_movements_totals_not_negative
        CHECK (authorized_nanos >= 0 AND captured_nanos >= 0 AND released_nanos >= 0 AND refunded_nanos >= 0),
    CONSTRAINT payment_movements_captured_within_authorized
        CHECK (captured_nanos + released_nanos <= authorized_nanos),
    CONSTRAINT payment_movements_refunded_within_captured CHECK (refunded_nanos <= captured_nanos),
    CONSTRAINT payment_movements_failure_code_iff_failed
        CHECK ((kind = 'failed') = (failure_code IS NOT NULL)),
    CONSTRAINT payment_movements_reason_length CHECK (char_length(reason) <= 500)
);
CREATE INDEX payment_movements_outbox_idx ON payment_movements (transaction_id, id);

-- Each row against its predecessor. Concurrent movements of one payment
-- are serialised by the service (it locks the payment's row first); two
-- that raced anyway would collide on the primary key.
CREATE FUNCTION payment_movements_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prev payment_movements;
    held bigint;
    expected bigint[];
BEGIN
    SELECT * INTO prev FROM payment_movements m
    WHERE m.payment_id = NEW.payment_id ORDER BY m.sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        IF NEW.sequence <> 1 OR NEW.kind NOT IN ('authorized', 'failed') THEN
            RAISE EXCEPTION 'a ledger starts with sequence 1, authorized or failed'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_movements_follow';
        END IF;
        expected := ARRAY[CASE WHEN NEW.kind = 'authorized' THEN NEW.amount_nanos ELSE 0 END, 0, 0, 0];
    ELSE
        held := prev.authorized_nanos - prev.captured_nanos - prev.released_nanos;
        IF NEW.sequence <> prev.sequence + 1 THEN
            RAISE EXCEPTION 'sequence % of payment % does not follow %', NEW.sequence, NEW.payment_id, prev.sequence
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_movements_follow';
        END IF;
        IF prev.kind = 'failed'
           OR (prev.kind = 'released' AND prev.captured_nanos = 0)
           OR (prev.kind = 'refunded' AND prev.refunded_nanos = prev.captured_nanos) THEN
            RAISE EXCEPTION 'payment % is in a final state', NEW.payment_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_movements_follow';
        END IF;
        IF NOT (
            (NEW.kind = 'captured' AND prev.kind = 'authorized')
            OR (NEW.kind = 'released' AND prev.kind IN ('authorized', 'captured') AND NEW.amount_nanos = held)
            OR (NEW.kind = 'refunded' AND prev.kind IN ('captured', 'released', 'refunded') AND prev.captured_nanos > 0)
        ) THEN
            RAISE EXCEPTION 'a % movement cannot follow a % movement', NEW.kind, prev.kind
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_movements_follow';
        END IF;
        expected := ARRAY[
            prev.authorized_nanos,
            prev.captured_nanos + CASE WHEN NEW.kind = 'captured' THEN NEW.amount_nanos ELSE 0 END,
            prev.released_nanos + CASE WHEN NEW.kind = 'released' THEN NEW.amount_nanos ELSE 0 END,
            prev.refunded_nanos + CASE WHEN NEW.kind = 'refunded' THEN NEW.amount_nanos ELSE 0 END];
    END IF;
    IF ARRAY[NEW.authorized_nanos, NEW.captured_nanos, NEW.released_nanos, NEW.refunded_nanos] <> expected THEN
        RAISE EXCEPTION 'the running totals of payment % do not add up', NEW.payment_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_movements_follow';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER payment_movements_follow
    BEFORE INSERT ON payment_movements
    FOR EACH ROW EXECUTE FUNCTION payment_movements_follow();

-- Append-only: a movement, once recorded, is never changed or removed.
CREATE FUNCTION payment_movements_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the payment ledger is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER payment_movements_append_only
    BEFORE UPDATE OR DELETE ON payment_movements
    FOR EACH ROW EXECUTE FUNCTION payment_movements_append_only();
CREATE TRIGGER payment_movements_no_truncate
    BEFORE TRUNCATE ON payment_movements
    FOR EACH STATEMENT EXECUTE FUNCTION payment_movements_append_only();

-- The relay's watermark, as in the orders database: the last movement
-- published, by (transaction_id, id).
CREATE TABLE outbox_cursor (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    transaction_id bigint NOT NULL,
    row_id         bigint NOT NULL,
    update_time    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO outbox_cursor (transaction_id, row_id) VALUES (0, 0);

-- The ledger as the relay reads it (src/payments/db/mod.rs): every
-- movement is an event, under its kind.
CREATE VIEW payment_outbox AS
SELECT id, transaction_id, kind, create_time AS event_time, event_id, event_payload, trace_parent, trace_state
FROM payment_movements;
