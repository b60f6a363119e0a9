// @generated from src/notifications/migrations by `UPDATE_SCHEMA=1 cargo test --test api schema`; do not edit.

diesel::table! {
    emails (id) {
        id -> Int8,
        event_id -> Uuid,
        order_id -> Uuid,
        kind -> Text,
        recipient -> Text,
        message_id -> Text,
        message -> Bytea,
        state -> Text,
        last_error -> Nullable<Text>,
        create_time -> Timestamptz,
        sent_time -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    inbox (event_id) {
        event_id -> Uuid,
        event_type -> Text,
        subject -> Text,
        stream_sequence -> Int8,
        outcome -> Text,
        payload -> Nullable<Bytea>,
        parked_reason -> Nullable<Text>,
        handle_time -> Timestamptz,
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

diesel::joinable!(emails -> inbox (event_id));

diesel::allow_tables_to_appear_in_same_query!(emails, inbox, jobs,);
