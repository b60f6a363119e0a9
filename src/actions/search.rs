//! SearchProducts: one page of the products matching a query, best first.

use super::{Call, to_proto};
use crate::{
    db::search,
    domain::{
        page::{Listing, SearchCursor, finish_page},
        search::SearchPage,
    },
    error::ApiError,
    proto,
};

/// One page of results, with the token of the next.
pub async fn search_products(call: &Call, page: &SearchPage) -> Result<proto::SearchProductsResponse, ApiError> {
    let hits = call
        .run(async |conn| {
            let after = page.after();
            Ok(search::search(conn, &page.query, page.show_archived, after, page.page_size + 1).await?)
        })
        .await?;
    let (hits, next_page_token) = finish_page(hits, page.page_size, |last| {
        let listing = Listing::Search {
            query: page.query.as_str(),
            show_archived: page.show_archived,
        };
        let cursor = SearchCursor {
            score: last.score,
            product_id: last.product.id,
        };
        call.state.page_key.seal(listing, &cursor)
    });
    let results = hits
        .into_iter()
        .map(|hit| proto::ProductSearchResult {
            score: hit.score,
            product: Some(to_proto::product(hit.product)),
        })
        .collect();
    Ok(proto::SearchProductsResponse {
        results,
        next_page_token,
    })
}
