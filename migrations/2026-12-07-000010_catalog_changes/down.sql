DROP FUNCTION catalog_search(text, boolean, real, uuid, integer);
DROP FUNCTION catalog_search_query(regconfig, text);
DROP FUNCTION catalog_spelling(text);
DROP FUNCTION catalog_set_search_configuration(text);
DROP TRIGGER products_search_document ON products;
DROP FUNCTION products_search_document();
DROP INDEX products_search_document_idx;
DROP INDEX products_name_document_idx;
ALTER TABLE products
    DROP COLUMN search_document,
    DROP COLUMN name_document,
    DROP COLUMN revision,
    DROP COLUMN archive_time;
DROP FUNCTION product_words(regconfig, text, text, text);
DROP FUNCTION product_search_document(regconfig, text, text, text);
DROP FUNCTION product_name_document(regconfig, text, text);
DROP TABLE catalog_words;
DROP TABLE catalog_search_settings;

-- The trail keeps the rows of the new kinds (it is append-only), so the old
-- rule applies to new rows only.
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_action_known,
    DROP COLUMN value_before,
    DROP COLUMN value_after;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_known CHECK (
        (resource_type = 'orders.v1.Order' AND action IN ('ORDER_CREATED', 'ORDER_CANCELLED', 'ORDER_SHIPPED'))
        OR (resource_type = 'orders.v1.Product' AND action IN ('PRODUCT_CREATED', 'PRODUCT_RESTOCKED'))
    ) NOT VALID;

-- place_order as it was (2026-12-02-000006, with 2026-12-03-000009's settings).
CREATE OR REPLACE FUNCTION place_order(
    p_order_id uuid, p_customer_id text, p_currency_code text, p_total_units bigint, p_total_nanos integer,
    p_recipient text, p_line1 text, p_line2 text, p_city text, p_region text, p_postal_code text,
    p_country_code text, p_create_time timestamptz,
    p_product_ids uuid[], p_quantities integer[], p_skus text[], p_names text[],
    p_unit_units bigint[], p_unit_nanos integer[], p_line_units bigint[], p_line_nanos integer[],
    p_scope text, p_request_id uuid, p_request_hash bytea, p_response bytea,
    p_customer_email text,
    OUT outcome text, OUT prior_hash bytea, OUT prior_response bytea,
    OUT found_ids uuid[], OUT found_stock bigint[]
)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off
AS $$
DECLARE
    v_short boolean;
    v_stale boolean;
BEGIN
    IF p_request_id IS NOT NULL THEN
        SELECT k.request_hash, k.response INTO prior_hash, prior_response
        FROM idempotency_keys k WHERE k.scope = p_scope AND k.request_id = p_request_id;
        IF FOUND THEN
            outcome := 'replay';
            RETURN;
        END IF;
    END IF;

    WITH locked AS (
        SELECT p.id, p.stock, p.currency_code, p.price_units, p.price_nanos
        FROM products p WHERE p.id = ANY (p_product_ids)
        ORDER BY p.id FOR UPDATE
    )
    SELECT coalesce(array_agg(l.id ORDER BY l.id), '{}'), coalesce(array_agg(l.stock ORDER BY l.id), '{}'),
           coalesce(bool_or(l.stock < w.quantity), false),
           coalesce(bool_or(l.currency_code <> p_currency_code
                            OR l.price_units <> w.units OR l.price_nanos <> w.nanos), false)
    INTO found_ids, found_stock, v_short, v_stale
    FROM locked l
    JOIN unnest(p_product_ids, p_quantities, p_unit_units, p_unit_nanos) AS w(id, quantity, units, nanos)
      ON w.id = l.id;
    outcome := CASE
        WHEN cardinality(found_ids) < cardinality(p_product_ids) THEN 'missing'
        WHEN v_stale THEN 'stale'
        WHEN v_short THEN 'short'
    END;
    IF outcome IS NOT NULL THEN
        RETURN;
    END IF;

    IF p_request_id IS NOT NULL THEN
        INSERT INTO idempotency_keys (scope, request_id, request_hash, response)
        VALUES (p_scope, p_request_id, p_request_hash, p_response)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT k.request_hash, k.response INTO prior_hash, prior_response
            FROM idempotency_keys k WHERE k.scope = p_scope AND k.request_id = p_request_id;
            outcome := 'replay';
            RETURN;
        END IF;
    END IF;

    UPDATE products p SET stock = p.stock - w.quantity, update_time = now()
    FROM unnest(p_product_ids, p_quantities) AS w(id, quantity)
    WHERE p.id = w.id;
    INSERT INTO orders (id, customer_id, state, currency_code, total_units, total_nanos,
                        ship_recipient, ship_line1, ship_line2, ship_city, ship_region,
                        ship_postal_code, ship_country_code, create_time, update_time, customer_email)
    VALUES (p_order_id, p_customer_id, 'PLACED', p_currency_code, p_total_units, p_total_nanos,
            p_recipient, p_line1, p_line2, p_city, p_region, p_postal_code, p_country_code,
            p_create_time, p_create_time, p_customer_email);
    INSERT INTO order_line_items (order_id, position, product_id, sku, name, quantity,
                                  unit_price_units, unit_price_nanos, line_total_units, line_total_nanos)
    SELECT p_order_id, (l.n - 1)::smallint, l.product_id, l.sku, l.name, l.quantity,
           l.unit_units, l.unit_nanos, l.line_units, l.line_nanos
    FROM unnest(p_product_ids, p_skus, p_names, p_quantities, p_unit_units, p_unit_nanos, p_line_units, p_line_nanos)
         WITH ORDINALITY AS l(product_id, sku, name, quantity, unit_units, unit_nanos, line_units, line_nanos, n);
    outcome := 'placed';
END
$$;
