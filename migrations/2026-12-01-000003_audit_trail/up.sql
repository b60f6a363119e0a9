-- The audit trail: one row per change (an order created, cancelled or
-- shipped; a product created or restocked), written in the same
-- transaction as the change, so a change that rolls back leaves no row and
-- a committed one always has its row. Rows are never changed or removed.
CREATE TABLE audit_events (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The change's time: the transaction's (now()), or the order's create_time.
    event_time     timestamptz NOT NULL DEFAULT now(),
    -- Who: the token's subject and the role that allowed the change;
    -- 'anonymous'/'none' when the server ran without authentication, and
    -- ''/'none' for changes made before this table existed (backfilled).
    actor_subject  text        NOT NULL,
    actor_role     text        NOT NULL,
    action         text        NOT NULL,
    -- What: 'orders.v1.Order' or 'orders.v1.Product', and its id.
    resource_type  text        NOT NULL,
    resource_id    uuid        NOT NULL,
    -- The request's `request_id` (its idempotency key), else the call's
    -- x-request-id; NULL only for backfilled rows.
    request_id     text,
    -- Orders: the state change, and the reason given for a cancellation.
    from_state     text,
    to_state       text,
    reason         text,
    -- Products: the units added (restock) or the initial stock (creation).
    quantity       bigint,
    CONSTRAINT audit_events_role_known CHECK (
        actor_role IN ('customer', 'warehouse', 'catalog-admin', 'service', 'none')
    ),
    CONSTRAINT audit_events_action_known CHECK (
        (resource_type = 'orders.v1.Order' AND action IN ('ORDER_CREATED', 'ORDER_CANCELLED', 'ORDER_SHIPPED'))
        OR (resource_type = 'orders.v1.Product' AND action IN ('PRODUCT_CREATED', 'PRODUCT_RESTOCKED'))
    ),
    CONSTRAINT audit_events_order_states CHECK (
        resource_type <> 'orders.v1.Order' OR to_state IN ('PLACED', 'SHIPPED', 'CANCELLED')
    ),
    CONSTRAINT audit_events_request_id_length CHECK (char_length(request_id) <= 128)
);

-- GetOrder's state history: one order's events in the order they happened
-- (changes to one order are serialised by its row lock, so id order is
-- commit order).
CREATE INDEX audit_events_resource_idx ON audit_events (resource_id, id);

-- Append-only, whatever the client: UPDATE, DELETE and TRUNCATE fail.
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Orders and products that exist already get the events they must have had,
-- so every order's history starts with its creation. Who made them is unknown.
INSERT INTO audit_events (event_time, actor_subject, actor_role, action, resource_type, resource_id,
                          from_state, to_state)
SELECT create_time, '', 'none', 'ORDER_CREATED', 'orders.v1.Order', id, NULL, 'PLACED'
FROM orders ORDER BY create_time, id;
INSERT INTO audit_events (event_time, actor_subject, actor_role, action, resource_type, resource_id,
                          from_state, to_state, reason)
SELECT coalesce(ship_time, cancel_time), '', 'none',
       CASE state WHEN 'SHIPPED' THEN 'ORDER_SHIPPED' ELSE 'ORDER_CANCELLED' END,
       'orders.v1.Order', id, 'PLACED', state, cancel_reason
FROM orders WHERE state <> 'PLACED' ORDER BY coalesce(ship_time, cancel_time), id;
INSERT INTO audit_events (event_time, actor_subject, actor_role, action, resource_type, resource_id)
SELECT create_time, '', 'none', 'PRODUCT_CREATED', 'orders.v1.Product', id
FROM products ORDER BY create_time, id;
