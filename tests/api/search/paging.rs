//! Paging: every result once, also while the catalog changes; tokens
//! bound to their query; archived products; the page size.

use super::*;
use crate::catalog_admin::{archive, unarchive, update_price};

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
        update_price(&app.catalog, &last.product_id, (n as i64 + 2, 50_000_000, "EUR")).await;
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
    archive(&app.catalog, catalog.id("COF-SCALE")).await;
    archive(&app.catalog, catalog.id("ESP-MACH-01")).await;

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

    unarchive(&app.catalog, catalog.id("COF-SCALE")).await;
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
