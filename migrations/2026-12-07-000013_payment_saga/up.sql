-- Card payments (the payment saga): an order placed with a payment method
-- is paid through the payment service after CreateOrder returns. It waits
-- in PLACED until its payment is captured (PAID), or is cancelled when the
-- card is declined or the payment does not come in time.

ALTER TABLE orders
    DROP CONSTRAINT orders_state_known,
    ADD CONSTRAINT orders_state_known CHECK (state IN ('PLACED', 'PAID', 'SHIPPED', 'CANCELLED'));

-- ListOrders, the warehouse's pick list: one state's orders, oldest first,
-- keyset-paginated on (create_time, id).
CREATE INDEX orders_state_idx ON orders (state, create_time, id);

-- What the orders service knows of an order's card payment; an order paid
-- on delivery has no row. The payment service's ledger is the truth about
-- money; this row is the saga's progress, changed only together with the
-- order (under its row lock) and its audit row.
CREATE TABLE order_payments (
    order_id        uuid        PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    payment_method  text        NOT NULL,
    status          text        NOT NULL DEFAULT 'PENDING',
    payment_id      uuid,
    decline_code    text,
    update_time     timestamptz NOT NULL DEFAULT now(),
    -- A token such as pm_card_visa: printable ASCII, no spaces.
    CONSTRAINT order_payments_method_format CHECK (payment_method ~ '^[!-~]{1,255}$'),
    CONSTRAINT order_payments_status_known CHECK (
        status IN ('PENDING', 'AUTHORIZED', 'CAPTURED', 'DECLINED', 'RELEASED', 'REFUNDED')
    ),
    CONSTRAINT order_payments_decline_iff_declined CHECK ((status = 'DECLINED') = (decline_code IS NOT NULL)),
    -- Whatever holds or took money is a known payment of the payment service.
    CONSTRAINT order_payments_id_when_money_moved CHECK (
        status NOT IN ('AUTHORIZED', 'CAPTURED', 'REFUNDED') OR payment_id IS NOT NULL
    )
);

-- The saga's steps are recorded like every other change, by the server
-- itself (role `system`): an authorization and a release change no state
-- and publish nothing; being paid and being refunded publish OrderPaid and
-- OrderRefunded.
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_role_known,
    ADD CONSTRAINT audit_events_role_known CHECK (
        actor_role IN ('customer', 'warehouse', 'catalog-admin', 'service', 'auditor', 'system', 'none')
    ),
    DROP CONSTRAINT audit_events_order_states,
    ADD CONSTRAINT audit_events_order_states CHECK (
        resource_type <> 'orders.v1.Order' OR to_state IN ('PLACED', 'PAID', 'SHIPPED', 'CANCELLED')
    ),
    DROP CONSTRAINT audit_events_action_known,
    ADD CONSTRAINT audit_events_action_known CHECK (
        (resource_type = 'orders.v1.Order' AND resource_id IS NOT NULL
            AND action IN ('ORDER_CREATED', 'ORDER_CANCELLED', 'ORDER_SHIPPED', 'ORDER_PAYMENT_AUTHORIZED',
                           'ORDER_PAID', 'ORDER_PAYMENT_RELEASED', 'ORDER_REFUNDED'))
        OR (resource_type = 'orders.v1.Product' AND resource_id IS NOT NULL
            AND action IN ('PRODUCT_CREATED', 'PRODUCT_RESTOCKED',
                           'PRODUCT_UPDATED', 'PRODUCT_ARCHIVED', 'PRODUCT_UNARCHIVED'))
        OR (resource_type = 'orders.v1.AuditEvent' AND resource_id IS NULL
            AND action = 'AUDIT_EVENTS_LISTED' AND event_payload IS NULL)
    );
