//! CatalogService.SearchProducts over one small shop catalog ([`CATALOG`]):
//! which products each kind of query finds and in what order (words,
//! phrases, exclusions, `or`, prefixes as typed, misspellings, name over
//! SKU over description, case, SKUs), paging (every result once, also
//! while the catalog changes, and tokens bound to their query), archived
//! products, the page size, queries refused or answered whatever they hold,
//! who may search, and the search language the server starts with.
//!
//! Results are compared as ranked groups: the SKUs of each group have
//! equal scores and come in descending product id order (the stable order
//! of ties), and each group scores strictly lower than the one before.

mod matching;
mod paging;
mod queries;

use std::collections::{HashMap, HashSet};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orders::{
    proto::{self, ProductSearchResult, SearchProductsResponse},
    startup::{Application, StartupError},
};
use tonic::{Code, Status};

use crate::{
    api_calls::{list, try_restock},
    app::{Catalog, TestApp, spawn_app, spawn_app_in, spawn_replica, spawn_secured_app, test_settings},
    assertions::{assert_error, assert_invalid_fields},
    direct_sql::{execute_sql, query_n_on},
    requests::money,
    test_database::TestDatabase,
    timing::within,
    tokens::{ALL_ROLES, token},
};

/// The shop, one product a line: SKU | name | description. Words are
/// placed so that each query below has one right answer: "barista" is in
/// one name, one SKU and one description; "green" and "tea" are both in
/// Green Tea's name but only apart in Tea Caddy; "coffee" is in four names
/// and three descriptions.
const CATALOG: &str = "
    ESP-MACH-01  | Espresso Machine         | 15-bar pump and steam wand for frothing milk.
    MILK-FROTH   | Milk Frother             | Froths milk for cappuccino and latte.
    TEA-GRN-100  | Green Tea                | Loose leaf sencha from Japan, 100 g.
    TEA-BLK-100  | Black Tea                | Strong breakfast blend, 100 g.
    COF-GRIND    | Coffee Grinder           | Conical burrs for anyone who brews at home.
    ESP-CUPS-6   | Espresso Cups (set of 6) | Porcelain, 60 ml each.
    TEA-KETTLE   | Tea Kettle               | Gooseneck spout for coffee and tea; boils a litre in four minutes.
    RUN-SHOE-42  | Running Shoes            | Light trainers for road and track.
    APRON-01     | Barista Apron            | Canvas with leather straps.
    BARISTA-TAMP | Coffee Tamper            | Stainless steel, 58 mm.
    MILK-JUG     | Milk Jug                 | Stainless steel pitcher every barista needs.
    TEA-CADDY    | Tea Caddy                | Airtight tin in green enamel.
    COF-BEANS-1K | Coffee Beans             | Medium roast espresso blend, 1 kg.
    COF-SCALE    | Coffee Scale             | Weighs to 0.1 g, with a timer.
    DESCALER     | Descaler                 | Limescale remover for coffee machines and kettles.
    FILTER-PAPER | Filter Papers            | 100 paper filters for pour-over coffee.
    TORCH-CB     | Kitchen Torch            | Butane flame that caramelises the sugar of a crème brûlée.
";

/// What "coffee" finds: four names, then three descriptions.
const COFFEE: [&[&str]; 2] = [
    &["COF-GRIND", "BARISTA-TAMP", "COF-BEANS-1K", "COF-SCALE"],
    &["TEA-KETTLE", "DESCALER", "FILTER-PAPER"],
];

/// The catalog as created: SKU → product.
struct Products(HashMap<String, proto::Product>);

impl Products {
    fn id(&self, sku: &str) -> &str {
        &self.0.get(sku).unwrap_or_else(|| panic!("no product {sku}")).product_id
    }

    /// The SKUs of `groups` in result order: ties by descending product id.
    fn ranked(&self, groups: &[&[&str]]) -> Vec<String> {
        let id = |sku: &&str| uuid::Uuid::parse_str(self.id(sku)).expect("a UUID");
        let mut order = Vec::new();
        for group in groups {
            let mut group = group.to_vec();
            group.sort_by_key(|sku| std::cmp::Reverse(id(sku)));
            order.extend(group.into_iter().map(str::to_owned));
        }
        order
    }
}

/// Creates a product through CreateProduct, with 10 in stock at 1.00 EUR.
async fn create(app: &TestApp, sku: &str, name: &str, description: &str) -> proto::Product {
    let request = proto::CreateProductRequest {
        sku: sku.into(),
        name: name.into(),
        description: description.into(),
        price: Some(money("EUR", 1, 0)),
        stock: 10,
        request_id: String::new(),
    };
    let response = app.catalog.clone().create_product(request).await;
    let response = response.unwrap_or_else(|s| panic!("CreateProduct {sku} failed: {s:?}"));
    response.into_inner().product.expect("a product")
}

/// Creates [`CATALOG`].
async fn create_catalog(app: &TestApp) -> Products {
    let mut products = HashMap::new();
    for line in CATALOG.lines().filter(|line| !line.trim().is_empty()) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [sku, name, description] = cells[..] else {
            panic!("not SKU | name | description: {line:?}");
        };
        products.insert(sku.to_owned(), create(app, sku, name, description).await);
    }
    Products(products)
}

fn request(query: &str, page_size: i32, page_token: &str, show_archived: bool) -> proto::SearchProductsRequest {
    proto::SearchProductsRequest {
        query: query.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
        show_archived,
    }
}

/// Calls SearchProducts through `client`.
async fn try_search_on(
    client: &Catalog,
    request: proto::SearchProductsRequest,
) -> Result<SearchProductsResponse, Status> {
    let response = within(10, client.clone().search_products(request)).await;
    response.map(|r| r.into_inner())
}

/// Calls SearchProducts through the test's default clients.
async fn try_search(app: &TestApp, request: proto::SearchProductsRequest) -> Result<SearchProductsResponse, Status> {
    try_search_on(&app.catalog, request).await
}

/// One page of up to 100 results for `query`.
async fn search(app: &TestApp, query: &str) -> SearchProductsResponse {
    let response = try_search(app, request(query, 100, "", false)).await;
    response.unwrap_or_else(|s| panic!("SearchProducts {query:?} failed: {s:?}"))
}

fn skus(results: &[ProductSearchResult]) -> Vec<String> {
    results
        .iter()
        .map(|r| r.product.as_ref().expect("a product").sku.clone())
        .collect()
}

/// Asserts that `response` holds exactly `groups` (see the module's
/// comment) on one page.
fn assert_ranked(catalog: &Products, query: &str, response: &SearchProductsResponse, groups: &[&[&str]]) {
    let results = &response.results;
    let scores: Vec<(String, f32)> = skus(results).into_iter().zip(results.iter().map(|r| r.score)).collect();
    assert_eq!(
        skus(results),
        catalog.ranked(groups),
        "the results of {query:?} (with their scores: {scores:?})"
    );
    let group_of: Vec<usize> = (groups.iter().enumerate())
        .flat_map(|(g, group)| std::iter::repeat_n(g, group.len()))
        .collect();
    for (i, pair) in results.windows(2).enumerate() {
        let (higher, lower) = (pair[0].score, pair[1].score);
        match group_of[i] == group_of[i + 1] {
            true => assert_eq!(higher, lower, "a tie in the results of {query:?}: {scores:?}"),
            false => assert!(higher > lower, "a better match first in {query:?}: {scores:?}"),
        }
    }
    assert_eq!(response.next_page_token, "", "{query:?} fits on one page");
}

/// Searches `query` and asserts its results (see [`assert_ranked`]).
async fn assert_finds(app: &TestApp, catalog: &Products, query: &str, groups: &[&[&str]]) {
    assert_ranked(catalog, query, &search(app, query).await, groups);
}

/// Every page of `query`, `page_size` at a time, calling `between` with
/// each page before asking for the next.
async fn walk<F>(app: &TestApp, query: &str, page_size: i32, show_archived: bool, mut between: F) -> Vec<Vec<String>>
where
    F: AsyncFnMut(usize, &SearchProductsResponse),
{
    let (mut pages, mut token) = (Vec::new(), String::new());
    loop {
        let page = try_search(app, request(query, page_size, &token, show_archived)).await;
        let page = page.unwrap_or_else(|s| panic!("page {} of {query:?}: {s:?}", pages.len() + 1));
        between(pages.len(), &page).await;
        pages.push(skus(&page.results));
        token = page.next_page_token;
        if token.is_empty() {
            return pages;
        }
        assert!(pages.len() < 50, "the pages of {query:?} never end");
    }
}
