-- GetOrderHistory (first page, 20 orders) as the service sends it (captured
-- from PostgreSQL's statement log): the page, then the lines of its orders.
-- pgbench cannot pass the first result to the second statement, so the
-- order ids come from the same index range again (a cheap extra probe
-- that the service does not make).
\set c random(0, :customers - 1)
SELECT "orders"."id", "orders"."customer_id", "orders"."state", "orders"."currency_code", "orders"."total_units", "orders"."total_nanos", "orders"."ship_recipient", "orders"."ship_line1", "orders"."ship_line2", "orders"."ship_city", "orders"."ship_region", "orders"."ship_postal_code", "orders"."ship_country_code", "orders"."cancel_reason", "orders"."create_time", "orders"."update_time", "orders"."ship_time", "orders"."cancel_time" FROM "orders" WHERE ("orders"."customer_id" = 'cust-' || lpad(:c::text, 6, '0')) ORDER BY "orders"."create_time" DESC, "orders"."id" DESC LIMIT 21;
SELECT "order_line_items"."order_id", "order_line_items"."position", "order_line_items"."product_id", "order_line_items"."sku", "order_line_items"."name", "order_line_items"."quantity", "order_line_items"."unit_price_units", "order_line_items"."unit_price_nanos", "order_line_items"."line_total_units", "order_line_items"."line_total_nanos" FROM "order_line_items" WHERE ("order_line_items"."order_id" = ANY(ARRAY(SELECT id FROM orders WHERE customer_id = 'cust-' || lpad(:c::text, 6, '0') ORDER BY create_time DESC, id DESC LIMIT 20))) ORDER BY "order_line_items"."order_id", "order_line_items"."position";
