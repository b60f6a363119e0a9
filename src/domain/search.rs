//! SearchProducts' request, parsed: the query a customer typed and the
//! page.
//!
//! The query goes to PostgreSQL as typed (trimmed): the database reads it
//! (`websearch_to_tsquery`: words, "phrases", `-exclusions`, `or`), corrects
//! its spelling against the catalog's words and matches prefixes (the
//! migration's `catalog_search_query`), and never fails on syntax. Only its
//! length is ours to check, and characters PostgreSQL cannot store.

use uuid::Uuid;

use super::{
    page::{self, Listing, PageTokenKey, SearchCursor},
    violations::Violations,
};
use crate::{error::ApiError, proto};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;

/// A query as typed: trimmed, 1 to [`MAX_QUERY_CHARS`] characters, control
/// characters (NUL, which PostgreSQL text cannot hold, a pasted tab or
/// newline) turned into spaces, and so is a hyphen that starts no word:
/// `-word` excludes a word, but `tea - kettle` means tea kettle, as in web
/// search engines (websearch_to_tsquery would exclude "kettle").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    pub fn parse(value: &str) -> Result<Self, String> {
        let text: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let text = text.trim();
        let length = text.chars().count();
        if length == 0 {
            return Err("is required: type at least one word".to_owned());
        }
        if length > MAX_QUERY_CHARS {
            return Err(format!("must be at most {MAX_QUERY_CHARS} characters (got {length})"));
        }
        Ok(SearchQuery(without_lone_hyphens(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` with every hyphen that starts no word turned into a space.
fn without_lone_hyphens(text: &str) -> String {
    let mut chars = text.chars().peekable();
    let mut out = String::with_capacity(text.len());
    while let Some(c) = chars.next() {
        let lone = c == '-' && chars.peek().is_none_or(|next| next.is_whitespace());
        out.push(if lone { ' ' } else { c });
    }
    out
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub query: SearchQuery,
    pub show_archived: bool,
    pub page_size: i64,
    pub cursor: Option<SearchCursor>,
}

impl SearchPage {
    pub fn parse(request: &proto::SearchProductsRequest, key: &PageTokenKey) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let query = v.check("query", SearchQuery::parse(&request.query));
        let page_size = v.check("page_size", page::page_size(request.page_size));
        // A token is good only for the query (as typed, trimmed) it was issued for.
        let cursor = query.as_ref().and_then(|query| {
            let listing = Listing::Search {
                query: query.as_str(),
                show_archived: request.show_archived,
            };
            v.check("page_token", key.open(listing, &request.page_token))
        });
        let (query, (page_size, cursor)) = v.finish(query.zip(page_size.zip(cursor)))?;
        Ok(SearchPage {
            query,
            show_archived: request.show_archived,
            page_size,
            cursor,
        })
    }

    /// Where the page starts: after this score and product id.
    pub fn after(&self) -> (Option<f32>, Option<Uuid>) {
        let cursor = self.cursor.as_ref();
        (cursor.map(|c| c.score), cursor.map(|c| c.product_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_long_and_control_characters() {
        assert!(SearchQuery::parse(" \t\n ").is_err());
        assert!(SearchQuery::parse("\u{0}").is_err());
        assert_eq!(SearchQuery::parse(" tea\u{0}pot\n").unwrap().as_str(), "tea pot");
        assert_eq!(SearchQuery::parse("tea - kettle -").unwrap().as_str(), "tea   kettle  ");
        assert_eq!(
            SearchQuery::parse("tea-kettle -milk").unwrap().as_str(),
            "tea-kettle -milk"
        );
        // Syntax alone is a query (that finds nothing), not a blank one.
        assert_eq!(SearchQuery::parse(" - ").unwrap().as_str(), " ");
        assert!(SearchQuery::parse(&"é".repeat(MAX_QUERY_CHARS)).is_ok());
        assert!(SearchQuery::parse(&"é".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }

    #[test]
    fn a_page_token_belongs_to_its_query() {
        let key = PageTokenKey::new(vec![3; 32]).unwrap();
        let cursor = SearchCursor {
            score: 0.75,
            product_id: Uuid::from_u128(9),
        };
        let listing = Listing::Search {
            query: "tea",
            show_archived: false,
        };
        let request = |query: &str, show_archived| proto::SearchProductsRequest {
            query: query.into(),
            page_token: key.seal(listing, &cursor),
            show_archived,
            ..Default::default()
        };
        let page = SearchPage::parse(&request(" tea ", false), &key).unwrap();
        assert_eq!(page.after(), (Some(0.75), Some(Uuid::from_u128(9))));
        assert!(SearchPage::parse(&request("coffee", false), &key).is_err());
        assert!(SearchPage::parse(&request("tea", true), &key).is_err());
    }
}
