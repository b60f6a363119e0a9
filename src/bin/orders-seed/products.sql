-- The seeded catalog: products `load-000000` .. `load-<:products - 1>`,
-- those missing created (existing ones are kept as they are), with the
-- audit row the API would have written for each. orders-seed splices in
-- :products as an integer and :brands, :attributes, :nouns and :vocabulary
-- as ARRAY[...] literals of the word lists in words.rs.
--
-- A product's id is md5 of its SKU and its price follows from its number,
-- so the pgbench baselines (bench/pgbench) can name and price products
-- without a lookup. Its name and description are made for text search:
-- "<brand> <attribute> <noun> X<i % 997>" (e.g. "Kaldera Stainless Steel
-- Espresso Machine X412") and 8 to 20 words of the vocabulary, each word
-- picked by a hash of the product number, so that neighbouring products
-- differ and every run names product i alike. The hash is
-- hashint8extended, the one behind hash partitioning: built in, fast, and
-- the same on every platform and version. Each choice has a seed of its
-- own (1 to 5), so brand, attribute and noun vary independently.
--
-- The trigger on products computes each one's search document as it is
-- inserted (orders-seed runs this before it turns triggers off).
WITH words AS (
    SELECT :brands AS brands, :attributes AS attributes, :nouns AS nouns, :vocabulary AS vocabulary
), numbered AS (
    SELECT i, 'load-' || lpad(i::text, 6, '0') AS sku
    FROM generate_series(0, :products - 1) AS i
), created AS (
    INSERT INTO products (id, sku, name, description, currency_code, price_units, price_nanos, stock)
    SELECT md5(n.sku)::uuid, n.sku,
           w.brands[1 + abs(hashint8extended(n.i, 1) % cardinality(w.brands))] || ' '
               || w.attributes[1 + abs(hashint8extended(n.i, 2) % cardinality(w.attributes))] || ' '
               || w.nouns[1 + abs(hashint8extended(n.i, 3) % cardinality(w.nouns))] || ' X' || n.i % 997,
           -- "Word word ... word." with a capital first letter.
           upper(left(d.words, 1)) || substr(d.words, 2) || '.',
           'EUR', 1 + n.i % 50, (n.i % 4) * 250000000, 1000000000
    FROM numbered n
    CROSS JOIN words w
    CROSS JOIN LATERAL (
        -- The k-th word's hash input is i * 32 + k: distinct for every
        -- (i, k), as k stays below 32.
        SELECT string_agg(w.vocabulary[1 + abs(hashint8extended(n.i * 32 + k, 5) % cardinality(w.vocabulary))],
                          ' ' ORDER BY k) AS words
        FROM generate_series(1, 8 + abs(hashint8extended(n.i, 4) % 13)) AS k
    ) d
    ON CONFLICT (sku) DO NOTHING
    RETURNING id, stock, create_time
)
INSERT INTO audit_events (event_time, actor_subject, actor_role, request_id, action, resource_type,
                          resource_id, quantity)
SELECT create_time, 'seed-admin', 'catalog-admin', gen_random_uuid()::text, 'PRODUCT_CREATED',
       'orders.v1.Product', id, stock
FROM created;
