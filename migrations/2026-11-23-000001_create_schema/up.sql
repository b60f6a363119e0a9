-- The whole schema of the orders service. Every rule the code checks is also
-- a constraint here, so no code path (or person with psql) can store an
-- order that the API could not have produced.

CREATE TABLE products (
    id             uuid        PRIMARY KEY,
    -- Byte order (C collation): SKU listings sort the same on every cluster.
    sku            text        COLLATE "C" NOT NULL,
    name           text        NOT NULL,
    description    text        NOT NULL DEFAULT '',
    currency_code  text        NOT NULL,
    price_units    bigint      NOT NULL,
    price_nanos    integer     NOT NULL,
    stock          bigint      NOT NULL,
    create_time    timestamptz NOT NULL DEFAULT now(),
    update_time    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_sku_key UNIQUE (sku),
    CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Za-z0-9._-]{1,64}$'),
    CONSTRAINT products_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT products_description_length CHECK (char_length(description) <= 2000),
    CONSTRAINT products_currency_format CHECK (currency_code ~ '^[A-Z]{3}$'),
    CONSTRAINT products_price_positive CHECK (
        price_units BETWEEN 0 AND 1000000000000
        AND price_nanos BETWEEN 0 AND 999999999
        AND (price_units > 0 OR price_nanos > 0)
    ),
    -- Never oversell: whatever the concurrency, stock cannot go negative.
    CONSTRAINT products_stock_range CHECK (stock BETWEEN 0 AND 1000000000)
);

CREATE TABLE orders (
    id                 uuid        PRIMARY KEY,
    customer_id        text        NOT NULL,
    state              text        NOT NULL DEFAULT 'PLACED',
    currency_code      text        NOT NULL,
    total_units        bigint      NOT NULL,
    total_nanos        integer     NOT NULL,
    ship_recipient     text        NOT NULL,
    ship_line1         text        NOT NULL,
    ship_line2         text        NOT NULL DEFAULT '',
    ship_city          text        NOT NULL,
    ship_region        text        NOT NULL DEFAULT '',
    ship_postal_code   text        NOT NULL DEFAULT '',
    ship_country_code  text        NOT NULL,
    cancel_reason      text,
    create_time        timestamptz NOT NULL DEFAULT now(),
    update_time        timestamptz NOT NULL DEFAULT now(),
    ship_time          timestamptz,
    cancel_time        timestamptz,
    CONSTRAINT orders_customer_id_length CHECK (char_length(customer_id) BETWEEN 1 AND 128),
    CONSTRAINT orders_state_known CHECK (state IN ('PLACED', 'SHIPPED', 'CANCELLED')),
    CONSTRAINT orders_currency_format CHECK (currency_code ~ '^[A-Z]{3}$'),
    CONSTRAINT orders_total_positive CHECK (
        total_units >= 0 AND total_nanos BETWEEN 0 AND 999999999
        AND (total_units > 0 OR total_nanos > 0)
    ),
    CONSTRAINT orders_country_format CHECK (ship_country_code ~ '^[A-Z]{2}$'),
    -- The timestamps and the reason follow the state machine exactly.
    CONSTRAINT orders_ship_time_iff_shipped CHECK ((state = 'SHIPPED') = (ship_time IS NOT NULL)),
    CONSTRAINT orders_cancel_time_iff_cancelled CHECK ((state = 'CANCELLED') = (cancel_time IS NOT NULL)),
    CONSTRAINT orders_reason_iff_cancelled CHECK ((state = 'CANCELLED') = (cancel_reason IS NOT NULL)),
    CONSTRAINT orders_cancel_reason_length CHECK (char_length(cancel_reason) <= 500)
);

-- GetOrderHistory: one customer's orders, newest first, keyset-paginated on
-- (create_time, id). Without it every page would scan and sort.
CREATE INDEX orders_customer_history_idx ON orders (customer_id, create_time DESC, id DESC);

CREATE TABLE order_line_items (
    order_id          uuid     NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position          smallint NOT NULL,
    product_id        uuid     NOT NULL REFERENCES products (id),
    sku               text     NOT NULL,
    name              text     NOT NULL,
    quantity          integer  NOT NULL,
    unit_price_units  bigint   NOT NULL,
    unit_price_nanos  integer  NOT NULL,
    line_total_units  bigint   NOT NULL,
    line_total_nanos  integer  NOT NULL,
    PRIMARY KEY (order_id, position),
    CONSTRAINT order_line_items_one_line_per_product UNIQUE (order_id, product_id),
    CONSTRAINT order_line_items_position_range CHECK (position BETWEEN 0 AND 99),
    CONSTRAINT order_line_items_quantity_range CHECK (quantity BETWEEN 1 AND 1000),
    CONSTRAINT order_line_items_unit_price_positive CHECK (
        unit_price_units >= 0 AND unit_price_nanos BETWEEN 0 AND 999999999
        AND (unit_price_units > 0 OR unit_price_nanos > 0)
    ),
    CONSTRAINT order_line_items_line_total_exact CHECK (
        line_total_nanos BETWEEN 0 AND 999999999
        AND line_total_units::numeric * 1000000000 + line_total_nanos
            = (unit_price_units::numeric * 1000000000 + unit_price_nanos) * quantity
    )
);

-- Idempotency keys (AIP-155). The key is claimed inside the same transaction
-- as the change it guards, so two racing duplicates cannot both win, and a
-- change that rolls back releases its key.
CREATE TABLE idempotency_keys (
    scope         text        NOT NULL,
    request_id    uuid        NOT NULL,
    request_hash  bytea       NOT NULL,
    response      bytea,
    create_time   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, request_id),
    CONSTRAINT idempotency_keys_hash_length CHECK (octet_length(request_hash) = 32)
);

-- Secrets shared by every instance of the service that uses this database.
CREATE TABLE server_secrets (
    name   text  PRIMARY KEY,
    value  bytea NOT NULL
);

-- The key that signs page tokens: 32 bytes from PostgreSQL's strong random
-- source (gen_random_uuid), created once, so that a token stays valid across
-- restarts and on every instance.
INSERT INTO server_secrets (name, value)
VALUES (
    'page_token_key',
    decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
);
