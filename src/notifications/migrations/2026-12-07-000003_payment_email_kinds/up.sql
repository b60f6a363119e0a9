-- Card payments (issue 14): two more kinds of email, the payment received
-- (event OrderPaid) and the refund of a cancelled order's payment (event
-- OrderRefunded).
ALTER TABLE emails DROP CONSTRAINT emails_kind_known;
ALTER TABLE emails ADD CONSTRAINT emails_kind_known CHECK (kind IN (
    'order_confirmation', 'order_cancelled', 'order_shipped', 'payment_confirmation', 'order_refunded'
));
