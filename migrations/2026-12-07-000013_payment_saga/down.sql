-- The trail is append-only: the saga's rows stay, so the old rules apply to
-- new rows only. Orders that are PAID stay PAID.
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_role_known,
    DROP CONSTRAINT audit_events_order_states,
    DROP CONSTRAINT audit_events_action_known;
ALTER TABLE audit_events
    ADD CONSTRAINT audit_events_role_known CHECK (
        actor_role IN ('customer', 'warehouse', 'catalog-admin', 'service', 'auditor', 'none')
    ) NOT VALID,
    ADD CONSTRAINT audit_events_order_states CHECK (
        resource_type <> 'orders.v1.Order' OR to_state IN ('PLACED', 'SHIPPED', 'CANCELLED')
    ) NOT VALID,
    ADD CONSTRAINT audit_events_action_known CHECK (
        (resource_type = 'orders.v1.Order' AND resource_id IS NOT NULL
            AND action IN ('ORDER_CREATED', 'ORDER_CANCELLED', 'ORDER_SHIPPED'))
        OR (resource_type = 'orders.v1.Product' AND resource_id IS NOT NULL
            AND action IN ('PRODUCT_CREATED', 'PRODUCT_RESTOCKED',
                           'PRODUCT_UPDATED', 'PRODUCT_ARCHIVED', 'PRODUCT_UNARCHIVED'))
        OR (resource_type = 'orders.v1.AuditEvent' AND resource_id IS NULL
            AND action = 'AUDIT_EVENTS_LISTED' AND event_payload IS NULL)
    ) NOT VALID;
DROP TABLE order_payments;
DROP INDEX orders_state_idx;
ALTER TABLE orders
    DROP CONSTRAINT orders_state_known,
    ADD CONSTRAINT orders_state_known CHECK (state IN ('PLACED', 'SHIPPED', 'CANCELLED')) NOT VALID;
