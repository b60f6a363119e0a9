-- GetOrderHistory (first page, 20 orders) in the fewest round trips: one
-- statement returning the page's orders joined with their lines.
\set c random(0, :customers - 1)
WITH page AS (
    SELECT * FROM orders WHERE customer_id = 'cust-' || lpad(:c::text, 6, '0')
    ORDER BY create_time DESC, id DESC LIMIT 21
)
SELECT p.*, l.position, l.product_id, l.sku, l.name, l.quantity, l.unit_price_units, l.unit_price_nanos,
       l.line_total_units, l.line_total_nanos
FROM page p LEFT JOIN order_line_items l ON l.order_id = p.id
ORDER BY p.create_time DESC, p.id DESC, l.position;
