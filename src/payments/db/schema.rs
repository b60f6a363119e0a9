// @generated from src/payments/migrations by `UPDATE_SCHEMA=1 cargo test --test api schema`; do not edit.

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
    outbox_cursor (singleton) {
        singleton -> Bool,
        transaction_id -> Int8,
        row_id -> Int8,
        update_time -> Timestamptz,
    }
}

diesel::table! {
    payment_movements (payment_id, sequence) {
        payment_id -> Uuid,
        sequence -> Int8,
        kind -> Text,
        amount_nanos -> Int8,
        authorized_nanos -> Int8,
        captured_nanos -> Int8,
        released_nanos -> Int8,
        refunded_nanos -> Int8,
        request_id -> Uuid,
        failure_code -> Nullable<Text>,
        reason -> Text,
        create_time -> Timestamptz,
        id -> Int8,
        transaction_id -> Int8,
        event_id -> Uuid,
        event_payload -> Bytea,
        trace_parent -> Nullable<Text>,
        trace_state -> Nullable<Text>,
    }
}

diesel::table! {
    payments (id) {
        id -> Uuid,
        order_id -> Uuid,
        customer_id -> Text,
        payment_method -> Text,
        currency_code -> Text,
        amount_nanos -> Int8,
        create_time -> Timestamptz,
    }
}

diesel::joinable!(payment_movements -> payments (payment_id));

diesel::allow_tables_to_appear_in_same_query!(idempotency_keys, jobs, outbox_cursor, payment_movements, payments,);
