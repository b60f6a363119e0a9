//! Queries refused or answered whatever they hold, who may search, and
//! the search language a server starts with.

use super::*;

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
