-- GetOrderHistory (first page, 20 orders) exactly as the service sends it,
-- captured from PostgreSQL's statement log (log_min_duration_statement = 0):
-- the page (21 rows: the extra one only tells that another page exists) and
-- the lines of its first 20 orders, which select the page's ids themselves,
-- so both statements go out together in one pipeline (one round trip). A
-- first page starts from the cursor (9999-12-31, the largest UUID), so
-- first and later pages are one statement shape.
\set c random(0, :customers - 1)
\startpipeline
SELECT "orders"."id", "orders"."customer_id", "orders"."state", "orders"."currency_code", "orders"."total_units", "orders"."total_nanos", "orders"."ship_recipient", "orders"."ship_line1", "orders"."ship_line2", "orders"."ship_city", "orders"."ship_region", "orders"."ship_postal_code", "orders"."ship_country_code", "orders"."cancel_reason", "orders"."create_time", "orders"."update_time", "orders"."ship_time", "orders"."cancel_time" FROM "orders" WHERE ((("orders"."customer_id" = ('cust-' || lpad(:c::text, 6, '0'))) AND ("orders"."create_time" <= '9999-12-31 23:59:59+00')) AND (("orders"."create_time" < '9999-12-31 23:59:59+00') OR ("orders"."id" < 'ffffffff-ffff-ffff-ffff-ffffffffffff'))) ORDER BY "orders"."create_time" DESC, "orders"."id" DESC LIMIT 21;
SELECT "order_line_items"."order_id", "order_line_items"."position", "order_line_items"."product_id", "order_line_items"."sku", "order_line_items"."name", "order_line_items"."quantity", "order_line_items"."unit_price_units", "order_line_items"."unit_price_nanos", "order_line_items"."line_total_units", "order_line_items"."line_total_nanos" FROM "order_line_items" WHERE ("order_line_items"."order_id" = ANY(ARRAY(SELECT "orders"."id" FROM "orders" WHERE ((("orders"."customer_id" = ('cust-' || lpad(:c::text, 6, '0'))) AND ("orders"."create_time" <= '9999-12-31 23:59:59+00')) AND (("orders"."create_time" < '9999-12-31 23:59:59+00') OR ("orders"."id" < 'ffffffff-ffff-ffff-ffff-ffffffffffff'))) ORDER BY "orders"."create_time" DESC, "orders"."id" DESC LIMIT 20))) ORDER BY "order_line_items"."order_id", "order_line_items"."position";
\endpipeline
