//! Which products each kind of query finds, and in what order: words,
//! phrases, exclusions, `or`, prefixes as typed, misspellings, name over
//! SKU over description, case, SKUs.

use super::*;

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
