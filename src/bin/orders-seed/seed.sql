-- One batch of orders, set-based: orders with 1-5 line items each over the
-- seeded products (`load-...`, made by products.sql, which runs first),
-- spread over customers and over the past year, most placed, some shipped
-- or cancelled. Parameters are spliced in by orders-seed as integers:
-- :customers, :orders, :offset. Customers follow orders-load: `cust-000000`.

-- The audit trail gets what the API would have written: one row per order
-- placed, and per order shipped or cancelled.

-- The products by number, for the lines below.
CREATE TEMP TABLE seed_products ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY sku) - 1 AS n, id, sku, name, price_units, price_nanos
FROM products WHERE sku LIKE 'load-%';
CREATE INDEX ON seed_products (n);
ANALYZE seed_products;

-- Order ids rise with the order's number, as the service's UUIDv7 ids rise
-- with time: every index insert then lands on the rightmost page instead of
-- a random one (measured: about twice as fast). The zero time prefix keeps
-- them apart from any id the service makes.
CREATE TEMP TABLE seed_orders ON COMMIT DROP AS
SELECT o AS n,
       ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid AS id,
       'cust-' || lpad(((o * 7919) % :customers)::text, 6, '0') AS customer_id,
       now() - make_interval(secs => (o * 31.7) % 31536000) AS create_time,
       CASE WHEN o % 10 = 0 THEN 'CANCELLED' WHEN o % 10 IN (1, 2) THEN 'SHIPPED' ELSE 'PLACED' END AS state,
       1 + (o * 2654435761) % 5 AS line_count
FROM generate_series(:offset::bigint + 1, :offset::bigint + :orders) AS o;

-- Distinct products within an order: steps of 4729 modulo the product count.
CREATE TEMP TABLE seed_lines ON COMMIT DROP AS
SELECT s.id AS order_id, pos::smallint AS position, p.id AS product_id, p.sku, p.name,
       1 + (s.n + pos) % 3 AS quantity, p.price_units, p.price_nanos
FROM seed_orders s
CROSS JOIN LATERAL generate_series(0, s.line_count - 1) AS pos
JOIN seed_products p ON p.n = (s.n * 7 + pos * 4729) % (SELECT count(*) FROM seed_products);

INSERT INTO orders (id, customer_id, state, currency_code, total_units, total_nanos,
                    ship_recipient, ship_line1, ship_city, ship_postal_code, ship_country_code,
                    cancel_reason, create_time, update_time, ship_time, cancel_time)
SELECT s.id, s.customer_id, s.state, 'EUR',
       t.total / 1000000000, (t.total % 1000000000)::int,
       'Customer ' || s.customer_id, s.n || ' Market Street', 'Springfield', '12345', 'US',
       CASE WHEN s.state = 'CANCELLED' THEN 'seeded' END,
       s.create_time, s.create_time + interval '1 hour',
       CASE WHEN s.state = 'SHIPPED' THEN s.create_time + interval '1 hour' END,
       CASE WHEN s.state = 'CANCELLED' THEN s.create_time + interval '1 hour' END
FROM seed_orders s
JOIN (SELECT order_id, sum((price_units * 1000000000 + price_nanos) * quantity) AS total
      FROM seed_lines GROUP BY order_id) t ON t.order_id = s.id
ORDER BY s.n;

INSERT INTO order_line_items (order_id, position, product_id, sku, name, quantity,
                              unit_price_units, unit_price_nanos, line_total_units, line_total_nanos)
SELECT order_id, position, product_id, sku, name, quantity, price_units, price_nanos,
       (price_units * 1000000000 + price_nanos) * quantity / 1000000000,
       ((price_units * 1000000000 + price_nanos) * quantity % 1000000000)::int
FROM seed_lines ORDER BY order_id, position;

INSERT INTO audit_events (event_time, actor_subject, actor_role, request_id, action, resource_type,
                          resource_id, from_state, to_state)
SELECT create_time, customer_id, 'customer', gen_random_uuid()::text, 'ORDER_CREATED', 'orders.v1.Order',
       id, NULL, 'PLACED'
FROM seed_orders ORDER BY n;

INSERT INTO audit_events (event_time, actor_subject, actor_role, request_id, action, resource_type,
                          resource_id, from_state, to_state, reason)
SELECT create_time + interval '1 hour',
       CASE state WHEN 'SHIPPED' THEN 'seed-warehouse' ELSE customer_id END,
       CASE state WHEN 'SHIPPED' THEN 'warehouse' ELSE 'customer' END,
       gen_random_uuid()::text,
       CASE state WHEN 'SHIPPED' THEN 'ORDER_SHIPPED' ELSE 'ORDER_CANCELLED' END,
       'orders.v1.Order', id, 'PLACED', state,
       CASE WHEN state = 'CANCELLED' THEN 'seeded' END
FROM seed_orders WHERE state <> 'PLACED' ORDER BY n;

-- The batches share one transaction: the next one makes these again.
DROP TABLE seed_products, seed_orders, seed_lines;
