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

#[tokio::test]
async fn a_word_finds_every_product_with_it_best_first() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // In the name and the description, in the name, in the description.
    assert_finds(
        &app,
        &catalog,
        "milk",
        &[&["MILK-FROTH"], &["MILK-JUG"], &["ESP-MACH-01"]],
    )
    .await;
    // Three names with "tea" once: a tie, in descending id order.
    assert_finds(
        &app,
        &catalog,
        "tea",
        &[&["TEA-KETTLE"], &["TEA-GRN-100", "TEA-BLK-100", "TEA-CADDY"]],
    )
    .await;
}

#[tokio::test]
async fn every_word_must_match() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // Tea Caddy has "green" only in its description; Black Tea and Tea
    // Kettle have no "green" at all, nor a word like it.
    assert_finds(&app, &catalog, "green tea", &[&["TEA-GRN-100"], &["TEA-CADDY"]]).await;
    assert_finds(&app, &catalog, "espresso machine", &[&["ESP-MACH-01"]]).await;
    assert_finds(&app, &catalog, "tea kettle", &[&["TEA-KETTLE"]]).await;
    // Typing "coffee grinder": both words, the second as typed so far.
    assert_finds(&app, &catalog, "coffee gri", &[&["COF-GRIND"]]).await;
}

#[tokio::test]
async fn a_phrase_needs_its_words_in_that_order() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    assert_finds(&app, &catalog, r#""green tea""#, &[&["TEA-GRN-100"]]).await;
    // Nothing says "tea green": not Green Tea, not Tea Caddy ("tea" ... "green").
    assert_finds(&app, &catalog, r#""tea green""#, &[]).await;
}

#[tokio::test]
async fn an_excluded_word_leaves_out_every_product_with_it() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // The exclusion is the exact word: "frothing" does not exclude.
    assert_finds(&app, &catalog, "milk -frother", &[&["MILK-JUG"], &["ESP-MACH-01"]]).await;
    assert_finds(&app, &catalog, "milk -frother -jug", &[&["ESP-MACH-01"]]).await;
    assert_finds(&app, &catalog, "tea -kettle -caddy", &[&["TEA-GRN-100", "TEA-BLK-100"]]).await;
    // A misspelt query too: the machine is close, but excluded.
    // Corrected to "espresso": the cups by name, the beans by description.
    assert_finds(
        &app,
        &catalog,
        "expresso -machine",
        &[&["ESP-CUPS-6"], &["COF-BEANS-1K"]],
    )
    .await;
    // In a SKU or a description, the word excludes as well.
    assert_finds(&app, &catalog, "stainless steel -barista", &[]).await;
}

#[tokio::test]
async fn a_hyphen_apart_from_a_word_excludes_nothing() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // As in "Tea - Kettle": only `-word` is an exclusion.
    assert_finds(&app, &catalog, "tea - kettle", &[&["TEA-KETTLE"]]).await;
    let tea = search(&app, "tea").await;
    assert_ranked(
        &catalog,
        "tea",
        &tea,
        &[&["TEA-KETTLE"], &["TEA-GRN-100", "TEA-BLK-100", "TEA-CADDY"]],
    );
    assert_eq!(search(&app, "- tea").await, tea, "\"- tea\"");
}

#[tokio::test]
async fn an_exclusion_keeps_the_name_over_sku_over_description_ranking() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // "barista" alone: name, SKU, description (see below); leaving out the
    // apron must not flatten the order of the two that are left.
    assert_finds(&app, &catalog, "barista -apron", &[&["BARISTA-TAMP"], &["MILK-JUG"]]).await;
}

#[tokio::test]
async fn or_finds_either_word() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    let teas: &[&[&str]] = &[&["TEA-GRN-100", "TEA-BLK-100"], &["TEA-CADDY"]];
    assert_finds(&app, &catalog, "green or black", teas).await;
    assert_finds(&app, &catalog, "green OR black", teas).await;
}

#[tokio::test]
async fn a_word_being_typed_matches_as_a_prefix() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // A word being typed starts words of names and SKUs; in descriptions,
    // only from five letters on: Coffee Beans ("Medium roast espresso
    // blend") is found by "espre", not by "espr".
    assert_finds(&app, &catalog, "espr", &[&["ESP-MACH-01", "ESP-CUPS-6"]]).await;
    assert_finds(
        &app,
        &catalog,
        "espre",
        &[&["ESP-MACH-01", "ESP-CUPS-6"], &["COF-BEANS-1K"]],
    )
    .await;
    // "roa" starts "road" and "roast", but only in descriptions; whole,
    // the words are found there.
    assert_finds(&app, &catalog, "roa", &[]).await;
    assert_finds(&app, &catalog, "roast", &[&["COF-BEANS-1K"]]).await;
    // The grinder by prefix; a word that starts a word of the catalog is
    // never "corrected" into another ("gri" is not "gre").
    assert_finds(&app, &catalog, "gri", &[&["COF-GRIND"]]).await;
}

#[tokio::test]
async fn a_misspelt_query_finds_the_name_it_is_close_to() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    assert_finds(&app, &catalog, "expresso machne", &[&["ESP-MACH-01"]]).await;
    // Spelt as the catalog spells it, a word finds what the word finds.
    assert_finds(
        &app,
        &catalog,
        "expresso",
        &[&["ESP-MACH-01", "ESP-CUPS-6"], &["COF-BEANS-1K"]],
    )
    .await;
    assert_finds(&app, &catalog, "runing shoos", &[&["RUN-SHOE-42"]]).await;
}

#[tokio::test]
async fn a_match_in_the_name_beats_the_sku_which_beats_the_description() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // Barista Apron, BARISTA-TAMP, "... every barista needs."
    assert_finds(
        &app,
        &catalog,
        "barista",
        &[&["APRON-01"], &["BARISTA-TAMP"], &["MILK-JUG"]],
    )
    .await;
}

#[tokio::test]
async fn matching_ignores_case() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    let expected = search(&app, "milk frother").await;
    assert_ranked(&catalog, "milk frother", &expected, &[&["MILK-FROTH"]]);
    for query in ["MILK FROTHER", "Milk Frother", "mIlK fRoThEr"] {
        assert_eq!(search(&app, query).await, expected, "{query:?}");
    }
    let expected = search(&app, "crème brûlée").await;
    assert_ranked(&catalog, "crème brûlée", &expected, &[&["TORCH-CB"]]);
    assert_eq!(search(&app, "CRÈME BRÛLÉE").await, expected);
    // Accents are kept as typed: "téa" is not "tea".
    assert_finds(&app, &catalog, "tÉa", &[]).await;
}

#[tokio::test]
async fn matching_ignores_the_case_of_accented_letters_in_a_byte_order_database() {
    // The zero-configuration local PostgreSQL is initialised with
    // --locale=C --lc-ctype=C.UTF-8: byte-order sorting, Unicode character
    // classes, as this database. (Text search lowercases with LC_CTYPE: in
    // plain C, "CRÈME" would stay as it is; the README says so.)
    let database = TestDatabase::create_empty().await;
    let mut admin = AsyncPgConnection::establish(&database.admin_url)
        .await
        .expect("connects");
    let name = &database.name;
    let c_locale = "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'";
    for statement in [
        format!("DROP DATABASE {name}"),
        format!("CREATE DATABASE {name} {c_locale}"),
    ] {
        admin.batch_execute(&statement).await.expect("recreates the database");
    }
    let app = spawn_app_in(database, |_| {}).await;
    let catalog = create_catalog(&app).await;
    assert_finds(&app, &catalog, "crème brûlée", &[&["TORCH-CB"]]).await;
    assert_finds(&app, &catalog, "CRÈME BRÛLÉE", &[&["TORCH-CB"]]).await;
}

#[tokio::test]
async fn a_sku_is_found_whole_or_as_typed() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    for query in ["cof-grind", "COF-GRIND"] {
        let response = search(&app, query).await;
        assert_ranked(&catalog, query, &response, &[&["COF-GRIND"]]);
    }
    assert_finds(&app, &catalog, "TEA-GRN-100", &[&["TEA-GRN-100"]]).await;
    // A SKU as typed so far.
    assert_finds(&app, &catalog, "COF-GRI", &[&["COF-GRIND"]]).await;
}

#[tokio::test]
async fn nothing_found_is_an_empty_page_without_a_token() {
    let app = spawn_app().await;
    create_catalog(&app).await;
    for page_size in [0, 1, 100] {
        let response = try_search(&app, request("zebra", page_size, "", false)).await.unwrap();
        assert_eq!(response, SearchProductsResponse::default(), "page size {page_size}");
    }
}

#[tokio::test]
async fn walking_every_page_gives_each_result_once_in_order() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    let whole = search(&app, "coffee").await;
    assert_ranked(&catalog, "coffee", &whole, &COFFEE);

    let mut results = Vec::new();
    let pages = walk(&app, "coffee", 2, false, async |_, page: &SearchProductsResponse| {
        results.extend(page.results.clone())
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 1]);
    assert_eq!(results, whole.results, "the pages, put together, are the single page");

    // A page that ends exactly at the last result has no token.
    let exact = try_search(&app, request("coffee", 7, "", false)).await.unwrap();
    assert_eq!((exact.results, exact.next_page_token), (whole.results, String::new()));
}

#[tokio::test]
async fn changes_between_pages_neither_repeat_nor_skip_a_result() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    let before = skus(&search(&app, "coffee").await.results);
    let mut added = Vec::new();
    let pages = walk(&app, "coffee", 2, false, async |n, page: &SearchProductsResponse| {
        // A new product that matches as well as the best, stock taken in
        // and a price changed on the page just read.
        let mug = create(&app, &format!("COF-MUG-{n}"), "Coffee Mug", "Stoneware, 300 ml.").await;
        added.push(mug.sku);
        let first = page.results[0].product.as_ref().unwrap();
        try_restock(&app, &first.product_id, 5, "").await.expect("restocks");
        let last = page.results.last().unwrap().product.as_ref().unwrap();
        change_price(&app, &last.product_id, (n as i64 + 2, 50_000_000, "EUR")).await;
    })
    .await;

    let seen: Vec<String> = pages.concat();
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "no result twice: {seen:?}");
    let originals: Vec<String> = seen.iter().filter(|sku| !added.contains(sku)).cloned().collect();
    assert_eq!(originals, before, "every original result once, in order: {seen:?}");
    assert_eq!(before, catalog.ranked(&COFFEE));
}

#[tokio::test]
async fn a_page_token_works_only_for_its_query() {
    let app = spawn_app().await;
    create_catalog(&app).await;
    let first = try_search(&app, request("coffee", 2, "", false)).await.unwrap();
    let token = first.next_page_token;
    let second = try_search(&app, request("coffee", 2, &token, false)).await.unwrap();
    assert_eq!(skus(&second.results).len(), 2);
    // The query as typed, trimmed.
    let padded = try_search(&app, request("  coffee\t", 2, &token, false)).await.unwrap();
    assert_eq!(padded, second);

    let refused = |query: &str, token: &str, show_archived: bool| {
        let call = request(query, 2, token, show_archived);
        let app = &app;
        async move { try_search(app, call).await.unwrap_err() }
    };
    for other in ["tea", "coffee beans", "coffe"] {
        assert_invalid_fields(&refused(other, &token, false).await, &["page_token"]);
    }
    assert_invalid_fields(&refused("coffee", &token, true).await, &["page_token"]);
    let archived = try_search(&app, request("coffee", 2, "", true)).await.unwrap();
    assert_invalid_fields(
        &refused("coffee", &archived.next_page_token, false).await,
        &["page_token"],
    );

    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    let listing = list(&app, 2, "").await.unwrap().next_page_token;
    for forged in [
        flipped.as_str(),
        &token[..token.len() - 2],
        &format!("{token}A"),
        "garbage!",
        &"A".repeat(600),
        listing.as_str(),
    ] {
        assert_invalid_fields(&refused("coffee", forged, false).await, &["page_token"]);
    }
    // Nor does a search token page through the catalog.
    assert_invalid_fields(&list(&app, 2, &token).await.unwrap_err(), &["page_token"]);
}

#[tokio::test]
async fn archived_products_are_found_only_when_asked_for() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    archive(&app, catalog.id("COF-SCALE")).await;
    archive(&app, catalog.id("ESP-MACH-01")).await;

    let without: [&[&str]; 2] = [&["COF-GRIND", "BARISTA-TAMP", "COF-BEANS-1K"], COFFEE[1]];
    assert_finds(&app, &catalog, "coffee", &without).await;
    assert_finds(&app, &catalog, "expresso machne", &[]).await;
    assert_finds(&app, &catalog, "espresso", &[&["ESP-CUPS-6"], &["COF-BEANS-1K"]]).await;

    let with = try_search(&app, request("coffee", 100, "", true)).await.unwrap();
    assert_ranked(&catalog, "coffee (with archived)", &with, &COFFEE);
    let products = with.results.iter().filter_map(|r| r.product.as_ref());
    let scale = products.clone().find(|p| p.sku == "COF-SCALE").expect("the scale");
    assert!(scale.archive_time.is_some(), "shown as archived: {scale:?}");
    assert!(
        products
            .filter(|p| p.sku != "COF-SCALE")
            .all(|p| p.archive_time.is_none())
    );
    let pages = walk(&app, "coffee", 3, true, async |_, _: &SearchProductsResponse| {}).await;
    assert_eq!(pages.concat(), catalog.ranked(&COFFEE));
    let fuzzy = try_search(&app, request("expresso machne", 100, "", true))
        .await
        .unwrap();
    assert_ranked(&catalog, "expresso machne (with archived)", &fuzzy, &[&["ESP-MACH-01"]]);

    unarchive(&app, catalog.id("COF-SCALE")).await;
    assert_finds(&app, &catalog, "coffee", &COFFEE).await;
}

#[tokio::test]
async fn page_size_defaults_to_20_is_capped_at_100_and_may_not_be_negative() {
    let app = spawn_app().await;
    execute_sql(
        &app,
        "INSERT INTO products (id, sku, name, currency_code, price_units, price_nanos, stock) \
         SELECT gen_random_uuid(), 'BULK-' || lpad(i::text, 4, '0'), 'Bulk ' || i, 'EUR', 1, 0, 5 \
         FROM generate_series(1, 105) AS i",
    )
    .await;
    let default = try_search(&app, request("bulk", 0, "", false)).await.unwrap();
    assert_eq!(default.results.len(), 20);
    assert_ne!(default.next_page_token, "");
    let capped = try_search(&app, request("bulk", 1000, "", false)).await.unwrap();
    assert_eq!(capped.results.len(), 100);
    assert_eq!(capped.results[..20], default.results[..]);
    let rest = try_search(&app, request("bulk", i32::MAX, &capped.next_page_token, false)).await;
    let rest = rest.unwrap();
    assert_eq!((rest.results.len(), rest.next_page_token.as_str()), (5, ""));
    let all: HashSet<String> = skus(&capped.results).into_iter().chain(skus(&rest.results)).collect();
    assert_eq!(all.len(), 105);

    for negative in [-1, i32::MIN] {
        let status = try_search(&app, request("bulk", negative, "", false))
            .await
            .unwrap_err();
        assert_invalid_fields(&status, &["page_size"]);
    }
}

#[tokio::test]
async fn a_blank_or_too_long_query_is_invalid_argument() {
    let app = spawn_app().await;
    create_catalog(&app).await;
    let blank = ["", " ", "\t\n ", "\u{0}", "\u{0}\u{7}\u{1b}", "\u{a0}\u{2003}"];
    let too_long = [
        "a".repeat(1001),
        "é".repeat(1001),
        "😀".repeat(1001),
        format!("{} x", "t".repeat(999)),
    ];
    for query in blank.into_iter().map(str::to_owned).chain(too_long) {
        let status = try_search(&app, request(&query, 0, "", false)).await.unwrap_err();
        assert_invalid_fields(&status, &["query"]);
    }
    let status = try_search(&app, request(" ", -1, "", false)).await.unwrap_err();
    assert_invalid_fields(&status, &["query", "page_size"]);
    // The limit counts what is left after trimming.
    let padded = format!("  {}  ", "a".repeat(1000));
    assert_eq!(search(&app, &padded).await, SearchProductsResponse::default());
}

#[tokio::test]
async fn any_query_of_up_to_1000_characters_is_answered() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    let syntax = r#"& | ! ( ) : * < -> <-> <2> ' " \ '' "" \\ \' :* :A & !"#;
    // One query a line.
    let hostile = r#"&
|
!
(
)
:
*
<
->
<->
'
"
\
''
""
-
- -
-"
-'
-\
-:*
-(
or
OR
or or
"unterminated
'':*
\'
a\b
x:*:*
x <0> y
☕
🍵 -☕
ｔｅａ"#;
    let hostile = (hostile.lines().map(str::to_owned)).chain(["\u{202e}".to_owned(), syntax.to_owned()]);
    let long = [
        "é".repeat(1000),
        "€".repeat(1000),
        "😀".repeat(1000),
        "a".repeat(1000),
        "\"".repeat(1000),
        "'".repeat(1000),
        "\\".repeat(1000),
        "(".repeat(1000),
        "!".repeat(1000),
        "or ".repeat(334)[..1000].to_owned(),
        syntax.repeat(30)[..1000].to_owned(),
    ];
    for query in hostile.chain(long) {
        assert!(query.chars().count() <= 1000, "{query:?} is not too long");
        if let Err(status) = try_search(&app, request(&query, 0, "", false)).await {
            panic!("{query:?} was not answered: {status:?}");
        }
    }

    // Syntax around a word is no syntax: the word is searched.
    let tea = search(&app, "tea").await;
    for query in [
        "tea:*",
        "'tea'",
        "(tea)",
        "!tea",
        "tea\\",
        "\\'tea\\'",
        "☕ tea",
        "tea -",
        "\"tea\"",
    ] {
        assert_eq!(search(&app, query).await.results, tea.results, "{query:?}");
    }
    // Control characters (NUL too) separate words.
    for query in ["tea\u{0}kettle", "tea\u{7}kettle", "tea\u{200b}kettle"] {
        assert_finds(&app, &catalog, query, &[&["TEA-KETTLE"]]).await;
    }
    // A word a thousand characters long in all, over and over.
    let kettles = format!("{}kettle", "kettle ".repeat(142));
    assert_eq!(kettles.chars().count(), 1000);
    assert_finds(&app, &catalog, &kettles, &[&["TEA-KETTLE"], &["DESCALER"]]).await;
}

#[tokio::test]
async fn a_run_of_hyphens_is_answered() {
    let app = spawn_app().await;
    create_catalog(&app).await;
    // A separator line pasted into the box, or a query made of exclusions.
    for query in [
        "-".repeat(33),
        "-".repeat(1000),
        "- ".repeat(40),
        "-(".repeat(40),
        format!("tea {} kettle", "-".repeat(40)),
    ] {
        if let Err(status) = try_search(&app, request(&query, 0, "", false)).await {
            panic!("{query:?} was not answered: {status:?}");
        }
    }
}

#[tokio::test]
async fn every_role_may_search() {
    let app = spawn_secured_app().await;
    let catalog = create_catalog(&app).await;
    for role in ALL_ROLES {
        let clients = app.with_token(&token("someone", &[role]));
        let response = try_search_on(&clients.catalog, request("coffee", 0, "", false)).await;
        let response = response.unwrap_or_else(|s| panic!("{role} may search: {s:?}"));
        assert_ranked(&catalog, "coffee", &response, &COFFEE);
    }
    let status = try_search_on(&app.without_token().catalog, request("coffee", 0, "", false)).await;
    assert_error(&status.unwrap_err(), Code::Unauthenticated, "TOKEN_MISSING");
}

#[tokio::test]
async fn the_english_search_language_finds_other_forms_of_a_word() {
    let app = spawn_app().await;
    let catalog = create_catalog(&app).await;
    // 'simple' keeps every word as typed: "the kettle" needs a product with
    // a word starting "the" and one starting "kettle", and none has both.
    assert_finds(&app, &catalog, "the kettle", &[]).await;
    // A server started with english rebuilds every document: "the" is a
    // stop word, and "kettles" (the descaler's description) is "kettl".
    let english = spawn_replica(&app, |s| s.catalog.search_language = "english".into()).await;
    let found: &[&[&str]] = &[&["TEA-KETTLE"], &["DESCALER"]];
    assert_finds(&english, &catalog, "the kettle", found).await;
    assert_finds(&english, &catalog, "brewing", &[&["COF-GRIND"]]).await;
    // The language belongs to the database: the first server searches in
    // english too now.
    assert_finds(&app, &catalog, "the kettle", found).await;
}

#[tokio::test]
async fn an_unknown_search_language_stops_the_start_and_is_named() {
    let database = TestDatabase::create().await;
    let mut settings = test_settings(&database.url);
    settings.catalog.search_language = "klingon".into();
    let error = match Application::build(settings).await {
        Ok(_) => panic!("the server started with search language klingon"),
        Err(error) => error,
    };
    assert!(matches!(error, StartupError::SearchLanguage { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "could not set the catalog's search language to \"klingon\": \
         PostgreSQL has no such text search configuration (psql's \\dF lists them)"
    );
    let mut conn = AsyncPgConnection::establish(&database.url).await.expect("connects");
    let kept = "SELECT count(*) AS n FROM catalog_search_settings WHERE config = 'simple'";
    assert_eq!(query_n_on(&mut conn, kept).await, 1, "the language is left as it was");
}

/// Changes a product's price through UpdateProduct (mask `price`).
async fn change_price(app: &TestApp, product_id: &str, price: (i64, i32, &str)) -> proto::Product {
    let request = proto::UpdateProductRequest {
        product: Some(proto::Product {
            product_id: product_id.to_owned(),
            price: Some(money(price.2, price.0, price.1)),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["price".to_owned()],
        }),
        request_id: String::new(),
    };
    let response = app.catalog.clone().update_product(request).await;
    response
        .expect("UpdateProduct")
        .into_inner()
        .product
        .expect("a product")
}

async fn archive(app: &TestApp, product_id: &str) -> proto::Product {
    let request = proto::ArchiveProductRequest {
        product_id: product_id.to_owned(),
        ..Default::default()
    };
    let response = app.catalog.clone().archive_product(request).await;
    response
        .expect("ArchiveProduct")
        .into_inner()
        .product
        .expect("a product")
}

async fn unarchive(app: &TestApp, product_id: &str) -> proto::Product {
    let request = proto::UnarchiveProductRequest {
        product_id: product_id.to_owned(),
        ..Default::default()
    };
    let response = app.catalog.clone().unarchive_product(request).await;
    response
        .expect("UnarchiveProduct")
        .into_inner()
        .product
        .expect("a product")
}
