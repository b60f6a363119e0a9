//! Queries on `products`.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, Bool, Int4, Nullable, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::products;
use crate::domain::{
    money::Money,
    product::{MAX_STOCK, NewProduct},
    product_change::Details,
};

/// The name of the unique constraint on `products.sku`.
pub const SKU_UNIQUE: &str = "products_sku_key";
/// The name of the `CHECK (stock BETWEEN 0 AND 1000000000)` constraint.
pub const STOCK_RANGE: &str = "products_stock_range";

/// A row of `products`.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct ProductRow {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub currency_code: String,
    pub price_units: i64,
    pub price_nanos: i32,
    pub stock: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    /// Changes to the details so far (not stock): the etag's source.
    pub revision: i64,
    pub archive_time: Option<DateTime<Utc>>,
}

impl ProductRow {
    /// The stored price as money. The schema's constraints hold it to what
    /// [`Money`] accepts; an error means a row that broke them.
    pub fn price(&self) -> Result<Money, String> {
        Money::from_parts(&self.currency_code, self.price_units, self.price_nanos)
    }
}

/// Inserts a product with a new id.
pub async fn insert(conn: &mut AsyncPgConnection, product: &NewProduct) -> QueryResult<ProductRow> {
    diesel::insert_into(products::table)
        .values((
            products::id.eq(Uuid::now_v7()),
            products::sku.eq(&product.sku),
            products::name.eq(&product.name),
            products::description.eq(&product.description),
            products::currency_code.eq(product.price.currency_code()),
            products::price_units.eq(product.price.units()),
            products::price_nanos.eq(product.price.nanos()),
            products::stock.eq(product.stock),
        ))
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .await
}

/// One product, if it exists.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ProductRow>> {
    products::table
        .find(id)
        .select(ProductRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The products `ids` that exist, in no particular order.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<ProductRow>> {
    products::table
        .filter(products::id.eq_any(ids))
        .select(ProductRow::as_select())
        .load(conn)
        .await
}

/// Up to `limit` products in SKU order, starting after `after_sku`,
/// archived ones only with `show_archived`. One fixed query text for every
/// page and both settings (the first page starts after "", below every
/// SKU), so diesel prepares it once per connection; a boxed query with
/// optional filters would be parsed and planned at every call.
pub async fn list(
    conn: &mut AsyncPgConnection,
    after_sku: Option<&str>,
    show_archived: bool,
    limit: i64,
) -> QueryResult<Vec<ProductRow>> {
    products::table
        .select(ProductRow::as_select())
        .filter(products::sku.gt(after_sku.unwrap_or("")))
        .filter(products::archive_time.is_null().or(show_archived.into_sql::<Bool>()))
        .order(products::sku)
        .limit(limit)
        .load(conn)
        .await
}

/// Sets the details that `details` changes, counting a revision.
pub async fn update_details(conn: &mut AsyncPgConnection, id: Uuid, details: &Details) -> QueryResult<ProductRow> {
    let price = details.price.as_ref();
    diesel::update(products::table.find(id))
        .set((
            details.name.as_ref().map(|name| products::name.eq(name)),
            (details.description.as_ref()).map(|description| products::description.eq(description)),
            price.map(|p| products::currency_code.eq(p.currency_code())),
            price.map(|p| products::price_units.eq(p.units())),
            price.map(|p| products::price_nanos.eq(p.nanos())),
            products::revision.eq(products::revision + 1),
            products::update_time.eq(diesel::dsl::now),
        ))
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .await
}

/// Archives the product (`archive`) or brings it back, counting a revision.
pub async fn set_archived(conn: &mut AsyncPgConnection, id: Uuid, archive: bool) -> QueryResult<ProductRow> {
    let archive_time = diesel::dsl::sql::<Nullable<Timestamptz>>(if archive { "now()" } else { "NULL" });
    diesel::update(products::table.find(id))
        .set((
            products::archive_time.eq(archive_time),
            products::revision.eq(products::revision + 1),
            products::update_time.eq(diesel::dsl::now),
        ))
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .await
}

/// Adds `quantity` units, unless that would exceed [`MAX_STOCK`]. `None`
/// when the product does not exist or the limit would be exceeded.
pub async fn add_stock(conn: &mut AsyncPgConnection, id: Uuid, quantity: i64) -> QueryResult<Option<ProductRow>> {
    diesel::update(products::table.find(id))
        .filter(products::stock.le(MAX_STOCK - quantity))
        .set((
            products::stock.eq(products::stock + quantity),
            products::update_time.eq(diesel::dsl::now),
        ))
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Locks the products `ids` for the rest of the transaction, always in id
/// order, so that two orders sharing products can never deadlock, and
/// returns those that exist.
pub async fn lock(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<ProductRow>> {
    products::table
        .filter(products::id.eq_any(ids))
        .order(products::id)
        .for_update()
        .select(ProductRow::as_select())
        .load(conn)
        .await
}

/// Moves stock: adds `deltas[i]` (negative to take) to product `ids[i]`.
/// The products must be locked already ([`lock`]); the schema's
/// `CHECK (stock >= 0)` is the last line of defence against overselling.
pub async fn change_stock(conn: &mut AsyncPgConnection, ids: &[Uuid], deltas: &[i32]) -> QueryResult<usize> {
    // unnest of two arrays keeps the SQL text the same for any number of
    // lines, where a VALUES list would change with the line count.
    diesel::sql_query(
        "UPDATE products AS p \
         SET stock = p.stock + d.delta, update_time = now() \
         FROM unnest($1::uuid[], $2::int4[]) AS d(id, delta) \
         WHERE p.id = d.id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Int4>, _>(deltas)
    .execute(conn)
    .await
}
