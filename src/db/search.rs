//! Product search: the SQL function `catalog_search` (in the migrations,
//! with how it matches and scores) joined to the products it found, and the
//! catalog's text search configuration.

use diesel::{
    prelude::*,
    sql_types::{Bool, Float4, Int4, Nullable, Text, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::products::ProductRow;
use crate::domain::search::SearchQuery;

/// A product found, with its score.
#[derive(Debug, QueryableByName)]
pub struct SearchHit {
    #[diesel(embed)]
    pub product: ProductRow,
    #[diesel(sql_type = Float4)]
    pub score: f32,
}

/// Up to `limit` products matching `query`, best first, after the
/// position `after` (score, id) of the previous page.
pub async fn search(
    conn: &mut AsyncPgConnection,
    query: &SearchQuery,
    show_archived: bool,
    after: (Option<f32>, Option<Uuid>),
    limit: i64,
) -> QueryResult<Vec<SearchHit>> {
    diesel::sql_query(
        "SELECT p.id, p.sku, p.name, p.description, p.currency_code, p.price_units, p.price_nanos, p.stock, \
                p.create_time, p.update_time, p.revision, p.archive_time, h.hit_score AS score \
         FROM catalog_search($1, $2, $3, $4, $5) h JOIN products p ON p.id = h.hit_id \
         ORDER BY h.hit_score DESC, h.hit_id DESC",
    )
    .bind::<Text, _>(query.as_str())
    .bind::<Bool, _>(show_archived)
    .bind::<Nullable<Float4>, _>(after.0)
    .bind::<Nullable<SqlUuid>, _>(after.1)
    .bind::<Int4, _>(i32::try_from(limit).unwrap_or(i32::MAX))
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = Bool)]
    changed: bool,
}

/// Makes `config` the catalog's text search configuration; when it was
/// another, rebuilds every product's search document and the catalog's
/// vocabulary with it (`catalog_set_search_configuration`, in the
/// migrations). True when it changed. An unknown configuration is an error.
pub async fn set_configuration(conn: &mut AsyncPgConnection, config: &str) -> QueryResult<bool> {
    let changed: Changed = diesel::sql_query("SELECT catalog_set_search_configuration($1) AS changed")
        .bind::<Text, _>(config)
        .get_result(conn)
        .await?;
    Ok(changed.changed)
}
