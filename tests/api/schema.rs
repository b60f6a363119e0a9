//! `src/db/schema.rs` must match the migrations, and
//! `src/notifications/db/schema.rs` and `src/payments/db/schema.rs` the
//! notifications and payment services'.
//!
//! This test renders the schema of a freshly migrated database in the
//! format of `diesel print-schema` (for the column types we use) and
//! compares it with the file. `UPDATE_SCHEMA=1 cargo test --test api schema`
//! rewrites the file instead: that is how it is generated.

use diesel::{QueryableByName, sql_types::Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::{app::spawn_app, test_database::TestDatabase};

const HEADER: &str =
    "// @generated from the migrations by `UPDATE_SCHEMA=1 cargo test --test api schema`; do not edit.\n";
const NOTIFICATIONS_HEADER: &str =
    "// @generated from src/notifications/migrations by `UPDATE_SCHEMA=1 cargo test --test api schema`; do not edit.\n";

#[tokio::test]
async fn schema_rs_matches_the_migrations() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let rendered = render_schema(&mut conn, HEADER).await;
    compare_or_update(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs"), &rendered);
}

#[tokio::test]
async fn the_notifications_schema_rs_matches_its_migrations() {
    let database = TestDatabase::create_empty().await;
    orders::notifications::db::migrate(&database.url)
        .await
        .expect("migrates");
    let mut conn = AsyncPgConnection::establish(&database.url).await.unwrap();
    let rendered = render_schema(&mut conn, NOTIFICATIONS_HEADER).await;
    compare_or_update(
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/notifications/db/schema.rs"),
        &rendered,
    );
}

const PAYMENTS_HEADER: &str =
    "// @generated from src/payments/migrations by `UPDATE_SCHEMA=1 cargo test --test api schema`; do not edit.\n";

#[tokio::test]
async fn the_payments_schema_rs_matches_its_migrations_and_shares_the_idempotency_table() {
    let database = TestDatabase::create_empty().await;
    orders::payments::db::migrate(&database.url).await.expect("migrates");
    let mut conn = AsyncPgConnection::establish(&database.url).await.unwrap();
    let rendered = render_schema(&mut conn, PAYMENTS_HEADER).await;
    compare_or_update(
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/payments/db/schema.rs"),
        &rendered,
    );
    // src/db/idempotency.rs serves both databases with one table definition.
    let payments_keys = render_table(&mut conn, "idempotency_keys").await;
    let app = spawn_app().await;
    let orders_keys = render_table(&mut app.connect().await, "idempotency_keys").await;
    assert_eq!(payments_keys, orders_keys);
}

fn compare_or_update(path: &str, rendered: &str) {
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap();
    assert!(
        on_disk == rendered,
        "{path} is out of date; regenerate it with `UPDATE_SCHEMA=1 cargo test --test api schema`.\nExpected:\n{rendered}"
    );
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    udt: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    column: String,
}

async fn render_schema(conn: &mut AsyncPgConnection, header: &str) -> String {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
           AND table_name NOT LIKE '\\_\\_diesel%' ORDER BY table_name",
    )
    .load(conn)
    .await
    .unwrap();
    let mut out = String::from(header);
    for table in &tables {
        out += &render_table(conn, &table.name).await;
    }
    let keys: Vec<ForeignKey> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent, a.attname::text AS column \
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 ORDER BY 1, 2",
    )
    .load(conn)
    .await
    .unwrap();
    out += "\n";
    for key in &keys {
        out += &format!("diesel::joinable!({} -> {} ({}));\n", key.child, key.parent, key.column);
    }
    // As rustfmt (max_width 120) lays the macro out: on one line when it fits.
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let one_line = format!("diesel::allow_tables_to_appear_in_same_query!({},);", names.join(", "));
    if one_line.len() <= 120 {
        return out + "\n" + &one_line + "\n";
    }
    out += "\ndiesel::allow_tables_to_appear_in_same_query!(\n";
    for name in names {
        out += &format!("    {name},\n");
    }
    out + ");\n"
}

async fn render_table(conn: &mut AsyncPgConnection, table: &str) -> String {
    let primary_key: Vec<Name> = diesel::sql_query(
        "SELECT a.attname::text AS name FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
         WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
    )
    .bind::<Text, _>(table)
    .load(conn)
    .await
    .unwrap();
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT column_name::text AS name, udt_name::text AS udt, is_nullable::text AS nullable \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)
    .await
    .unwrap();
    let key: Vec<&str> = primary_key.iter().map(|c| c.name.as_str()).collect();
    let mut out = format!("\ndiesel::table! {{\n    {table} ({}) {{\n", key.join(", "));
    for column in &columns {
        // Columns of types diesel has no type for are read only in SQL (a
        // product's search document, kept by a trigger): left out.
        let Some(sql_type) = diesel_type(&column.udt) else {
            continue;
        };
        let sql_type = if column.nullable == "YES" {
            format!("Nullable<{sql_type}>")
        } else {
            sql_type.to_owned()
        };
        out += &format!("        {} -> {sql_type},\n", column.name);
    }
    out + "    }\n}\n"
}

fn diesel_type(udt: &str) -> Option<&'static str> {
    Some(match udt {
        "uuid" => "Uuid",
        "text" => "Text",
        "int2" => "Int2",
        "int4" => "Int4",
        "int8" => "Int8",
        "bool" => "Bool",
        "bytea" => "Bytea",
        "timestamptz" => "Timestamptz",
        "jsonb" => "Jsonb",
        "tsvector" => return None,
        other => panic!("column type {other} is not mapped; extend diesel_type()"),
    })
}

#[test]
fn every_service_creates_the_same_jobs_table() {
    // The job queue's queries serve every service's database, so each
    // service's migrations must create exactly the same table.
    let root = env!("CARGO_MANIFEST_DIR");
    for file in ["up.sql", "down.sql"] {
        let orders = std::fs::read_to_string(format!("{root}/migrations/2026-12-02-000005_jobs/{file}")).unwrap();
        for service in [
            "notifications/migrations/2026-12-02-000002_jobs",
            "payments/migrations/2026-12-07-000002_jobs",
        ] {
            let theirs = std::fs::read_to_string(format!("{root}/src/{service}/{file}")).unwrap();
            assert_eq!(orders, theirs, "{file} of the jobs migrations differs in {service}");
        }
    }
}
