-- Fails while emails of the new kinds are stored: they would break the old
-- constraint.
ALTER TABLE emails DROP CONSTRAINT emails_kind_known;
ALTER TABLE emails ADD CONSTRAINT emails_kind_known CHECK (kind IN ('order_confirmation', 'order_cancelled', 'order_shipped'));
