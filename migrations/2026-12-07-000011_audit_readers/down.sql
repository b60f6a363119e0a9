DROP INDEX audit_events_time_idx;
DROP INDEX audit_events_actor_idx;
-- The trail is append-only: readings and the auditor role's rows stay, so
-- the old rules apply to new rows only, and resource_id stays nullable.
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_role_known,
    DROP CONSTRAINT audit_events_action_known;
ALTER TABLE audit_events
    ADD CONSTRAINT audit_events_role_known CHECK (
        actor_role IN ('customer', 'warehouse', 'catalog-admin', 'service', 'none')
    ) NOT VALID,
    ADD CONSTRAINT audit_events_action_known CHECK (
        (resource_type = 'orders.v1.Order' AND action IN ('ORDER_CREATED', 'ORDER_CANCELLED', 'ORDER_SHIPPED'))
        OR (resource_type = 'orders.v1.Product' AND action IN ('PRODUCT_CREATED', 'PRODUCT_RESTOCKED',
            'PRODUCT_UPDATED', 'PRODUCT_ARCHIVED', 'PRODUCT_UNARCHIVED'))
    ) NOT VALID;
