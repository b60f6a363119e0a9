// @generated from the migrations by `UPDATE_SCHEMA=1 cargo test --test api schema`; do not edit.

diesel::table! {
    audit_events (id) {
        id -> Int8,
        event_time -> Timestamptz,
        actor_subject -> Text,
        actor_role -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Uuid>,
        request_id -> Nullable<Text>,
        from_state -> Nullable<Text>,
        to_state -> Nullable<Text>,
        reason -> Nullable<Text>,
        quantity -> Nullable<Int8>,
        event_id -> Nullable<Uuid>,
        event_payload -> Nullable<Bytea>,
        transaction_id -> Int8,
        value_before -> Nullable<Jsonb>,
        value_after -> Nullable<Jsonb>,
        trace_parent -> Nullable<Text>,
        trace_state -> Nullable<Text>,
    }
}

diesel::table! {
    catalog_search_settings (singleton) {
        singleton -> Bool,
        config -> Text,
    }
}

diesel::table! {
    catalog_words (word) {
        word -> Text,
    }
}

diesel::table! {
    idempotency_keys (scope, request_id) {
        scope -> Text,
        request_id -> Uuid,
        request_hash -> Bytea,
        response -> Nullable<Bytea>,
        create_time -> Timestamptz,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        payload -> Jsonb,
        state -> Text,
        attempts -> Int4,
        max_attempts -> Int4,
        run_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        unique_key -> Nullable<Text>,
        create_time -> Timestamptz,
        finish_time -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    order_line_items (order_id, position) {
        order_id -> Uuid,
        position -> Int2,
        product_id -> Uuid,
        sku -> Text,
        name -> Text,
        quantity -> Int4,
        unit_price_units -> Int8,
        unit_price_nanos -> Int4,
        line_total_units -> Int8,
        line_total_nanos -> Int4,
    }
}

diesel::table! {
    order_payments (order_id) {
        order_id -> Uuid,
        payment_method -> Text,
        status -> Text,
        payment_id -> Nullable<Uuid>,
        decline_code -> Nullable<Text>,
        update_time -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        customer_id -> Text,
        state -> Text,
        currency_code -> Text,
        total_units -> Int8,
        total_nanos -> Int4,
        ship_recipient -> Text,
        ship_line1 -> Text,
        ship_line2 -> Text,
        ship_city -> Text,
        ship_region -> Text,
        ship_postal_code -> Text,
        ship_country_code -> Text,
        cancel_reason -> Nullable<Text>,
        create_time -> Timestamptz,
        update_time -> Timestamptz,
        ship_time -> Nullable<Timestamptz>,
        cancel_time -> Nullable<Timestamptz>,
        customer_email -> Nullable<Text>,
    }
}

diesel::table! {
    outbox_cursor (singleton) {
        singleton -> Bool,
        transaction_id -> Int8,
        row_id -> Int8,
        update_time -> Timestamptz,
    }
}

diesel::table! {
    products (id) {
        id -> Uuid,
        sku -> Text,
        name -> Text,
        description -> Text,
        currency_code -> Text,
        price_units -> Int8,
        price_nanos -> Int4,
        stock -> Int8,
        create_time -> Timestamptz,
        update_time -> Timestamptz,
        revision -> Int8,
        archive_time -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Bytea,
    }
}

diesel::joinable!(order_line_items -> orders (order_id));
diesel::joinable!(order_line_items -> products (product_id));
diesel::joinable!(order_payments -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    catalog_search_settings,
    catalog_words,
    idempotency_keys,
    jobs,
    order_line_items,
    order_payments,
    orders,
    outbox_cursor,
    products,
    server_secrets,
);
