-- The catalog a shop can run: products change (name, description, price),
-- are archived and brought back, and are found by what customers type.
--
-- Changes. `revision` counts the changes to a product's details (name,
-- description, price, archived or not), not its stock: the API's etag is
-- made from it, so a price can be edited while orders take stock.
-- `archive_time` is set while a product is archived (a soft delete): the
-- product stays for past orders (whose lines copy SKU, name and price) but
-- cannot be ordered.
ALTER TABLE products
    ADD COLUMN revision bigint NOT NULL DEFAULT 1,
    ADD COLUMN archive_time timestamptz,
    ADD CONSTRAINT products_revision_positive CHECK (revision >= 1);

-- Search. Each product has a text-search document: its name (weight A, the
-- highest), SKU (B) and description (C), in the text search configuration
-- the catalog is set to (`catalog_search_settings`, set from the server's
-- --search-language at start; 'simple' unless changed, see the README);
-- and the same without the description, its name document, where words
-- being typed are looked up as prefixes (see catalog_search_query: a
-- prefix of three letters in every description would match a tenth of a
-- catalog, every one of which must be ranked). The positions of the name
-- and SKU words are the same in both. A trigger keeps both in step with
-- the text; orders, which change only the stock, never fire it.
CREATE TABLE catalog_search_settings (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    -- The configuration's name (text, not regconfig: pg_upgrade refuses
    -- tables with reg* columns other than regclass, regrole and regtype).
    config    text    NOT NULL
);
INSERT INTO catalog_search_settings (config) VALUES ('simple');

-- The catalog's vocabulary: every word (lexeme) of the products' names,
-- SKUs and descriptions, without numbers, for spelling correction: a query word
-- that starts no word of the catalog is replaced by the closest one by
-- trigram similarity ("expresso" -> "espresso"), the way pg_trgm's
-- documentation suggests. Words are added as products are written and
-- never removed (a word no product has any more finds nothing).
CREATE TABLE catalog_words (
    word text COLLATE "C" PRIMARY KEY
);

CREATE FUNCTION product_name_document(p_config regconfig, p_sku text, p_name text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(p_config, p_name), 'A') || setweight(to_tsvector(p_config, p_sku), 'B')
$$;

CREATE FUNCTION product_search_document(p_config regconfig, p_sku text, p_name text, p_description text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT product_name_document(p_config, p_sku, p_name) || setweight(to_tsvector(p_config, p_description), 'C')
$$;

CREATE FUNCTION product_words(p_config regconfig, p_sku text, p_name text, p_description text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT w FROM unnest(tsvector_to_array(product_search_document(p_config, p_sku, p_name, p_description))) AS w
    WHERE w !~ '[0-9]'
$$;

-- FOR SHARE: a product written while the configuration changes waits for
-- that change (and its rebuild of every document) to commit, so no
-- document is left in the old configuration.
CREATE FUNCTION products_search_document() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_config regconfig := (SELECT s.config FROM catalog_search_settings s FOR SHARE)::regconfig;
BEGIN
    NEW.search_document := product_search_document(v_config, NEW.sku, NEW.name, NEW.description);
    NEW.name_document := product_name_document(v_config, NEW.sku, NEW.name);
    INSERT INTO catalog_words (word)
    SELECT w FROM unnest(tsvector_to_array(NEW.search_document)) AS w WHERE w !~ '[0-9]'
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;

ALTER TABLE products ADD COLUMN search_document tsvector, ADD COLUMN name_document tsvector;
UPDATE products SET search_document = product_search_document('simple', sku, name, description),
                    name_document = product_name_document('simple', sku, name);
ALTER TABLE products ALTER COLUMN search_document SET NOT NULL, ALTER COLUMN name_document SET NOT NULL;
INSERT INTO catalog_words (word)
SELECT DISTINCT product_words('simple', sku, name, description) FROM products;
CREATE TRIGGER products_search_document
    BEFORE INSERT OR UPDATE OF sku, name, description ON products
    FOR EACH ROW EXECUTE FUNCTION products_search_document();

-- Makes `p_config` the catalog's configuration; when it was another,
-- rebuilds every document and the vocabulary in it. True when it changed.
-- An unknown configuration fails (the cast).
CREATE FUNCTION catalog_set_search_configuration(p_config text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_config regconfig := p_config::regconfig;
BEGIN
    UPDATE catalog_search_settings SET config = v_config::text WHERE config <> v_config::text;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE products SET search_document = product_search_document(v_config, sku, name, description),
                        name_document = product_name_document(v_config, sku, name);
    DELETE FROM catalog_words;
    INSERT INTO catalog_words (word) SELECT DISTINCT product_words(v_config, sku, name, description) FROM products;
    RETURN true;
END
$$;

-- Trigram similarity, for spelling correction.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX products_search_document_idx ON products USING gin (search_document);
CREATE INDEX products_name_document_idx ON products USING gin (name_document);
CREATE INDEX catalog_words_trigram_idx ON catalog_words USING gist (word gist_trgm_ops);

-- A query word as the catalog knows it: itself when it starts a word of
-- the catalog (the primary key answers `^@`, starts-with, in the C
-- collation), else the most similar word by trigrams, else itself. The
-- similarity needed is 0.25 rather than pg_trgm's default 0.3: short
-- words share few trigrams ("dsk" and "desk" score 0.29), and a word that
-- starts no word of the catalog finds nothing uncorrected anyway. Words of
-- fewer than 3 letters or with digits are never corrected: too little to
-- go by.
CREATE FUNCTION catalog_spelling(p_word text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET pg_trgm.similarity_threshold = 0.25
AS $$
    SELECT CASE
        WHEN char_length(p_word) < 3 OR p_word ~ '[0-9]' THEN p_word
        WHEN EXISTS (SELECT 1 FROM catalog_words w WHERE w.word ^@ p_word) THEN p_word
        ELSE coalesce((SELECT w.word FROM catalog_words w WHERE w.word % p_word
                       ORDER BY w.word <-> p_word, w.word LIMIT 1), p_word)
    END
$$;

-- What a customer typed, as text search queries. websearch_to_tsquery reads
-- it (words, "phrases", -exclusions, `or`); every word but the excluded ones
-- is then spelled as the catalog knows it (catalog_spelling). A product
-- matches when every word starts a word of its name or SKU (search-as-you-
-- type: "espr" finds "Espresso"; a word of one or two letters must be
-- whole), or when every word is found anywhere, descriptions included: as
-- the start of a longer word when it has five letters or more ("kettle"
-- finds "kettles"), else whole. (Three letters at the start of every word
-- of every description would match a tenth of a catalog, each of which
-- must then be ranked.)
--
--   prefix     the words as prefixes, for the name document and its index;
--   prefix_ab  the same, restricted to weights A and B, for the whole
--              document: what `prefix` finds, without the products whose
--              description holds an excluded word; NULL when nothing is
--              excluded (then `prefix` says it all, and the search skips
--              this check, which costs as much again as the rest);
--   anywhere   the words for the whole document;
--   rank       the wanted words as alternatives, to score with (ts_rank
--              scores any query with a `!` as nothing).
--
-- Excluded words stay as typed, whole, in all of them. The rewrite goes
-- token by token over the query's text form: a lexeme is a quoted string
-- ('' for a quote inside it, \\ for a backslash), operators hold no quotes;
-- a lexeme with a quote or a backslash is kept whole. websearch_to_tsquery
-- fails only on operators nested too deep ("tsquery stack too small", for a
-- run of 33 hyphens); the words alone are taken then.
CREATE FUNCTION catalog_search_query(
    p_config regconfig, p_query text,
    OUT prefix tsquery, OUT prefix_ab tsquery, OUT anywhere tsquery, OUT rank tsquery
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_parsed    tsquery;
    v_token     text[];
    v_prefix    text := '';
    v_prefix_ab text := '';
    v_anywhere  text := '';
    v_wanted    text[] := '{}';
    v_negated   boolean := false;
    v_excludes  boolean := false;
    v_word      text;
    v_mark      text;
BEGIN
    BEGIN
        v_parsed := websearch_to_tsquery(p_config, p_query);
    EXCEPTION WHEN internal_error THEN
        v_parsed := plainto_tsquery(p_config, p_query);
    END;
    FOR v_token IN SELECT regexp_matches(v_parsed::text, '''((?:[^'']|'''')*)''|([^'']+)', 'g') LOOP
        IF v_token[2] IS NOT NULL THEN
            v_prefix := v_prefix || v_token[2];
            v_prefix_ab := v_prefix_ab || v_token[2];
            v_anywhere := v_anywhere || v_token[2];
            v_negated := v_token[2] ~ '![ (]*$';
            v_excludes := v_excludes OR v_negated;
        ELSIF v_negated OR v_token[1] ~ '[''\\]' THEN
            v_word := '''' || v_token[1] || '''';
            v_prefix := v_prefix || v_word;
            v_prefix_ab := v_prefix_ab || v_word;
            v_anywhere := v_anywhere || v_word;
        ELSE
            v_word := '''' || catalog_spelling(v_token[1]) || '''';
            v_mark := CASE WHEN char_length(v_token[1]) >= 3 THEN ':*' ELSE '' END;
            v_prefix := v_prefix || v_word || v_mark;
            v_prefix_ab := v_prefix_ab || v_word || ':' || ltrim(v_mark, ':') || 'AB';
            v_anywhere := v_anywhere || v_word || CASE WHEN char_length(v_token[1]) >= 5 THEN ':*' ELSE '' END;
            v_wanted := v_wanted || (v_word || v_mark);
        END IF;
    END LOOP;
    prefix := v_prefix::tsquery;
    prefix_ab := CASE WHEN v_excludes THEN v_prefix_ab::tsquery END;
    anywhere := v_anywhere::tsquery;
    rank := CASE WHEN cardinality(v_wanted) = 0 THEN anywhere ELSE array_to_string(v_wanted, ' | ')::tsquery END;
END
$$;

-- One page of SearchProducts: the ids and scores of the products matching
-- `p_query` (catalog_search_query says how), best first, after the position
-- (`p_after_score`, `p_after_id`) of the previous page's last result. The
-- score is ts_rank over the weighted document (name 1.0, SKU 0.4,
-- description 0.2): a real, computed the same way every time, so a page's
-- position is exact.
--
-- A custom plan per call: how many rows a query matches decides the plan,
-- and a NULL `prefix_ab` folds its check away (`IS TRUE` keeps the planner
-- from reading the whole document's index for it, which finds every word
-- with that start in every description).
-- No notices (websearch_to_tsquery's "no lexemes" for a query of only
-- punctuation) go to the client.
CREATE FUNCTION catalog_search(
    p_query text, p_show_archived boolean, p_after_score real, p_after_id uuid, p_limit integer
)
RETURNS TABLE (hit_id uuid, hit_score real)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_custom_plan
SET client_min_messages = warning
AS $$
DECLARE
    q record := catalog_search_query((SELECT s.config FROM catalog_search_settings s)::regconfig, p_query);
BEGIN
    RETURN QUERY
    SELECT s.id, s.score
    FROM (
        SELECT p.id, ts_rank('{0.1, 0.2, 0.4, 1.0}', p.search_document, q.rank) AS score
        FROM products p
        WHERE ((p.name_document @@ q.prefix
                AND (q.prefix_ab IS NULL OR (p.search_document @@ q.prefix_ab) IS TRUE))
               OR p.search_document @@ q.anywhere)
          AND (p_show_archived OR p.archive_time IS NULL)
    ) s
    WHERE p_after_id IS NULL OR (s.score, s.id) < (p_after_score, p_after_id)
    ORDER BY s.score DESC, s.id DESC
    LIMIT p_limit;
END
$$;

-- The audit trail records product changes too: the fields that changed,
-- before and after (`{"name": ..., "price": {...}}`), and archiving.
ALTER TABLE audit_events
    ADD COLUMN value_before jsonb,
    ADD COLUMN value_after  jsonb,
    DROP CONSTRAINT audit_events_action_known,
    ADD CONSTRAINT audit_events_action_known CHECK (
        (resource_type = 'orders.v1.Order' AND action IN ('ORDER_CREATED', 'ORDER_CANCELLED', 'ORDER_SHIPPED'))
        OR (resource_type = 'orders.v1.Product' AND action IN ('PRODUCT_CREATED', 'PRODUCT_RESTOCKED',
            'PRODUCT_UPDATED', 'PRODUCT_ARCHIVED', 'PRODUCT_UNARCHIVED'))
    );

-- place_order (see 2026-11-23-000002_place_order_function for what it does,
-- step by step) also calls the server's cache stale when a product's name
-- differs from the one it priced with (the line would copy an old name) or
-- the product is archived: the server then reads the product again and
-- refuses it (PRODUCT_ARCHIVED). Same signature, same per-function settings
-- (2026-12-03-000009).
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
        SELECT p.id, p.stock, p.currency_code, p.price_units, p.price_nanos, p.name, p.archive_time
        FROM products p WHERE p.id = ANY (p_product_ids)
        ORDER BY p.id FOR UPDATE
    )
    SELECT coalesce(array_agg(l.id ORDER BY l.id), '{}'), coalesce(array_agg(l.stock ORDER BY l.id), '{}'),
           coalesce(bool_or(l.stock < w.quantity), false),
           coalesce(bool_or(l.currency_code <> p_currency_code
                            OR l.price_units <> w.units OR l.price_nanos <> w.nanos
                            OR l.name <> w.name OR l.archive_time IS NOT NULL), false)
    INTO found_ids, found_stock, v_short, v_stale
    FROM locked l
    JOIN unnest(p_product_ids, p_quantities, p_unit_units, p_unit_nanos, p_names) AS w(id, quantity, units, nanos, name)
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
