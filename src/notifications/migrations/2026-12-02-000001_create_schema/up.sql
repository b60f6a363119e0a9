-- The notifications service's own database: it never reads the orders
-- database, and learns everything from the events.
--
-- The inbox: every event this service has handled, once. An event is handled
-- in one transaction that records it here and stores the email it causes
-- (with the job that sends it), and is acked to JetStream only after that
-- commit: a redelivered event finds its row and is acked without a second
-- email.
CREATE TABLE inbox (
    event_id       uuid        PRIMARY KEY,
    event_type     text        NOT NULL,
    subject        text        NOT NULL,
    -- The JetStream stream sequence, for finding the message again.
    stream_sequence bigint     NOT NULL,
    -- 'emailed': an email was stored for sending; 'no_email': nothing to
    -- send (the order has no customer_email); 'parked': undecodable or of an
    -- unknown type, kept in `payload` with the reason, never retried.
    outcome        text        NOT NULL,
    payload        bytea,
    parked_reason  text,
    handle_time    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inbox_outcome_known CHECK (outcome IN ('emailed', 'no_email', 'parked')),
    CONSTRAINT inbox_parked_has_reason CHECK ((outcome = 'parked') = (parked_reason IS NOT NULL))
);

-- One email per handled event: the whole MIME message as rendered, so a
-- retry sends exactly the same bytes (and the same Message-ID).
CREATE TABLE emails (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid        NOT NULL UNIQUE REFERENCES inbox (event_id),
    order_id       uuid        NOT NULL,
    kind           text        NOT NULL,
    recipient      text        NOT NULL,
    message_id     text        NOT NULL,
    message        bytea       NOT NULL,
    -- 'pending' until the SMTP server accepted it ('sent') or refused it for
    -- good ('failed': a 5xx answer, such as an unknown mailbox).
    state          text        NOT NULL DEFAULT 'pending',
    last_error     text,
    create_time    timestamptz NOT NULL DEFAULT now(),
    sent_time      timestamptz,
    CONSTRAINT emails_kind_known CHECK (kind IN ('order_confirmation', 'order_cancelled', 'order_shipped')),
    CONSTRAINT emails_state_known CHECK (state IN ('pending', 'sent', 'failed')),
    CONSTRAINT emails_sent_time_iff_sent CHECK ((state = 'sent') = (sent_time IS NOT NULL))
);
CREATE INDEX emails_order_idx ON emails (order_id);
