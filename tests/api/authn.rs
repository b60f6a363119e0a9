//! Authentication: the tokens a secured server accepts, and the exact
//! UNAUTHENTICATED answer (reason, message) for every one it does not. A
//! refused call changes nothing, and its message never quotes the token.

use serde_json::{Value, json};
use tonic::{Code, Status};

use crate::{
    app::{Bearer, Clients, TestApp, spawn_secured_app, spawn_secured_app_with},
    assertions::assert_error,
    direct_sql::count_rows,
    requests::product_request,
    tokens::{self, Signer, claims, now, sign, token, unsigned},
};

/// A change any role but one is refused: a refused token must not create it.
async fn create_product_as(clients: &Clients, sku: &str) -> Result<(), Status> {
    let request = product_request(sku, (1, 0, "EUR"), 1);
    clients.catalog.clone().create_product(request).await.map(drop)
}

/// `claims` for a catalog admin, edited by `edit`.
fn admin_claims(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut value = claims("admin-1", &["catalog-admin"]);
    edit(value.as_object_mut().unwrap());
    value
}

#[tokio::test]
async fn tokens_signed_by_every_configured_key_are_accepted() {
    let app = spawn_secured_app().await;
    let signers = [Signer::Rsa, Signer::RsaWithoutKid, Signer::Ed25519, Signer::Hs256];
    for (i, signer) in signers.into_iter().enumerate() {
        let token = sign(signer, &claims("admin-1", &["catalog-admin"]));
        let result = create_product_as(&app.with_token(&token), &format!("SKU-{i}")).await;
        assert!(result.is_ok(), "{signer:?}: {result:?}");
    }
    assert_eq!(count_rows(&app, "products").await, 4);
}

#[tokio::test]
async fn every_bad_token_is_unauthenticated_with_its_own_reason() {
    let app = spawn_secured_app().await;
    let cases = [malformed_tokens(), badly_signed_tokens(), tokens_with_bad_claims()];
    for case in cases.into_iter().flatten() {
        assert_refused_with_its_own_reason(&app, case).await;
    }
    assert_eq!(count_rows(&app, "products").await, 0);
    assert_eq!(count_rows(&app, "audit_events").await, 0);
}

/// A token the server must refuse: what it is, the `authorization` it is
/// sent as, and the `ErrorInfo.reason` and a part of the message it must
/// be refused with.
struct BadToken {
    case: &'static str,
    bearer: Bearer,
    reason: &'static str,
    says: &'static str,
}

fn bad(case: &'static str, bearer: Bearer, reason: &'static str, says: &'static str) -> BadToken {
    BadToken {
        case,
        bearer,
        reason,
        says,
    }
}

/// A change with `case`'s token is UNAUTHENTICATED with its reason and a
/// message that says what is wrong without quoting the token.
async fn assert_refused_with_its_own_reason(app: &TestApp, case: BadToken) {
    let BadToken {
        case,
        bearer,
        reason,
        says,
    } = case;
    let status = create_product_as(&app.with_bearer(bearer), "SKU-1").await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, reason);
    assert!(
        status.message().contains(says),
        "{case}: {:?} lacks {says:?}",
        status.message()
    );
    assert!(
        !status.message().contains("eyJ"),
        "{case}: the message quotes a token: {status:?}"
    );
}

/// No token, another scheme, not a JWT, or a JWT signed with "none".
fn malformed_tokens() -> Vec<BadToken> {
    vec![
        bad("no token", Bearer::default(), "TOKEN_MISSING", "needs a bearer token"),
        bad(
            "basic auth",
            Bearer::header("Basic YWRtaW46c2VjcmV0"),
            "TOKEN_MALFORMED",
            "must be `Bearer <token>`",
        ),
        bad(
            "not a JWT",
            bearer("not-a-jwt".into()),
            "TOKEN_MALFORMED",
            "not a well-formed JWT",
        ),
        bad(
            "alg none",
            bearer(unsigned(&admin_claims(|_| {}))),
            "TOKEN_ALGORITHM_REJECTED",
            "signed with \"none\"",
        ),
    ]
}

/// Valid claims signed by a key the server does not trust, or does not
/// know, or as an algorithm-confusion forgery.
fn badly_signed_tokens() -> Vec<BadToken> {
    vec![
        bad(
            "unknown key",
            bearer(sign(Signer::Untrusted, &admin_claims(|_| {}))),
            "TOKEN_SIGNATURE_INVALID",
            "signature",
        ),
        bad(
            "unknown kid",
            bearer(signed_with_unknown_kid()),
            "TOKEN_KEY_UNKNOWN",
            "\"ed-1999\"",
        ),
        bad(
            "confusion",
            bearer(algorithm_confusion_forgery()),
            "TOKEN_SIGNATURE_INVALID",
            "signature",
        ),
    ]
}

/// Tokens signed by a trusted key whose claims are expired, not yet valid,
/// for another issuer or audience, or missing or malformed.
fn tokens_with_bad_claims() -> Vec<BadToken> {
    vec![
        bad(
            "expired",
            signed(|c| drop(c.insert("exp".into(), json!(now() - 120)))),
            "TOKEN_EXPIRED",
            "expired",
        ),
        bad(
            "not yet",
            signed(|c| drop(c.insert("nbf".into(), json!(now() + 300)))),
            "TOKEN_NOT_YET_VALID",
            "nbf",
        ),
        bad(
            "issuer",
            signed(|c| drop(c.insert("iss".into(), json!("https://evil.test/")))),
            "TOKEN_ISSUER_INVALID",
            tokens::ISSUER,
        ),
        bad(
            "audience",
            signed(|c| drop(c.insert("aud".into(), json!("billing")))),
            "TOKEN_AUDIENCE_INVALID",
            "\"orders\"",
        ),
        bad(
            "no exp",
            signed(|c| drop(c.remove("exp"))),
            "TOKEN_CLAIMS_INVALID",
            "`exp`",
        ),
        bad(
            "no sub",
            signed(|c| drop(c.remove("sub"))),
            "TOKEN_CLAIMS_INVALID",
            "`sub`",
        ),
        bad(
            "empty sub",
            signed(|c| drop(c.insert("sub".into(), json!("")))),
            "TOKEN_CLAIMS_INVALID",
            "`sub`",
        ),
        bad(
            "roles",
            signed(|c| drop(c.insert("roles".into(), json!(5)))),
            "TOKEN_CLAIMS_INVALID",
            "`roles`",
        ),
    ]
}

fn bearer(token: String) -> Bearer {
    Bearer::token(&token)
}

/// A bearer of admin claims edited by `edit`, signed with the trusted RSA key.
fn signed(edit: fn(&mut serde_json::Map<String, Value>)) -> Bearer {
    bearer(sign(Signer::Rsa, &admin_claims(edit)))
}

/// HS256 "signed" with the RSA public key as the secret: the classic
/// algorithm-confusion forgery.
fn algorithm_confusion_forgery() -> String {
    let rsa_public = std::fs::read(tokens::fixture("rsa-public.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_secret(&rsa_public).unwrap();
    let claims = admin_claims(|_| {});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )
    .unwrap()
}

/// Signed by the trusted Ed25519 key, but naming a `kid` the server has never had.
fn signed_with_unknown_kid() -> String {
    let key = std::fs::read(tokens::fixture("ed25519-private.pem")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some("ed-1999".into());
    let key = jsonwebtoken::EncodingKey::from_ed_pem(&key).unwrap();
    jsonwebtoken::encode(&header, &admin_claims(|_| {}), &key).unwrap()
}

#[tokio::test]
async fn clock_skew_within_the_leeway_is_tolerated_and_audiences_may_be_lists() {
    let app = spawn_secured_app().await;
    let edits: [fn(&mut serde_json::Map<String, Value>); 3] = [
        |c| drop(c.insert("exp".into(), json!(now() - 10))),
        |c| drop(c.insert("nbf".into(), json!(now() + 10))),
        |c| drop(c.insert("aud".into(), json!(["billing", "orders"]))),
    ];
    for (i, edit) in edits.into_iter().enumerate() {
        let token = sign(Signer::Ed25519, &admin_claims(edit));
        create_product_as(&app.with_token(&token), &format!("SKU-{i}"))
            .await
            .unwrap_or_else(|s| panic!("case {i}: {s:?}"));
    }
}

#[tokio::test]
async fn a_server_without_the_shared_secret_refuses_hs256_outright() {
    let app = spawn_secured_app_with(|s| s.security.auth.auth_hs256_secret_file = None).await;
    let hs256 = sign(Signer::Hs256, &admin_claims(|_| {}));
    let status = create_product_as(&app.with_token(&hs256), "SKU-1").await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_ALGORITHM_REJECTED");
    assert_eq!(
        status.message(),
        "tokens signed with \"HS256\" are not accepted; this server accepts RS256, EdDSA"
    );
}

async fn health_status(clients: &Clients) -> Result<(), Status> {
    let request = tonic_health::pb::HealthCheckRequest { service: String::new() };
    clients.health.clone().check(request).await.map(drop)
}

#[tokio::test]
async fn health_answers_without_a_token_unless_configured_otherwise() {
    let open = spawn_secured_app().await;
    health_status(&open.without_token())
        .await
        .expect("health is public by default");

    let closed = spawn_secured_app_with(|s| s.security.auth.auth_public_health = false).await;
    let status = health_status(&closed.without_token()).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_MISSING");
    // Any valid token will do, even one without a role of this service.
    health_status(&closed.with_token(&token("probe", &[]))).await.unwrap();
}

#[tokio::test]
async fn requests_without_a_token_reach_nothing() {
    let app: TestApp = spawn_secured_app().await;
    let anonymous = app.without_token();
    let status = (anonymous.orders.clone())
        .get_order_history(proto_history("alice"))
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_MISSING");
}

fn proto_history(customer_id: &str) -> orders::proto::GetOrderHistoryRequest {
    orders::proto::GetOrderHistoryRequest {
        customer_id: customer_id.to_owned(),
        page_size: 0,
        page_token: String::new(),
    }
}

/// Every service reflection lists: health, reflection v1 and v1alpha, the
/// order, catalog and audit services, and the payment service (all in the
/// descriptor set, whichever of them the process runs).
const LISTED_SERVICES: [&str; 7] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "orders.v1.AuditService",
    "orders.v1.CatalogService",
    "orders.v1.OrderService",
    "payments.v1.PaymentService",
];

/// The names of the services listed over reflection v1 with `bearer`, sorted.
async fn reflect(app: &TestApp, bearer: Bearer) -> Result<Vec<String>, Status> {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut client = ServerReflectionClient::with_interceptor(app.channel.clone(), bearer);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    match stream.message().await?.and_then(|r| r.message_response) {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            names.sort();
            Ok(names)
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn reflection_answers_without_a_token_unless_configured_otherwise() {
    let open = spawn_secured_app().await;
    assert_eq!(reflect(&open, Bearer::default()).await.unwrap(), LISTED_SERVICES);

    let closed = spawn_secured_app_with(|s| s.security.auth.auth_public_reflection = false).await;
    let status = reflect(&closed, Bearer::default()).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_MISSING");
    assert_eq!(
        reflect(&closed, Bearer::token(&token("grpcurl-user", &[])))
            .await
            .unwrap(),
        LISTED_SERVICES
    );
    // Health stays open: the two are configured separately.
    health_status(&closed.without_token()).await.unwrap();
}

#[tokio::test]
async fn a_token_accepted_once_is_refused_the_moment_it_expires() {
    // No leeway: the token is good for its first two seconds only.
    let app = spawn_secured_app_with(|s| s.security.auth.auth_leeway = std::time::Duration::ZERO).await;
    let token = sign(
        Signer::Rsa,
        &admin_claims(|c| drop(c.insert("exp".into(), json!(now() + 2)))),
    );
    let clients = app.with_token(&token);
    create_product_as(&clients, "SKU-1").await.expect("valid now");
    create_product_as(&clients, "SKU-2")
        .await
        .expect("still valid, now remembered");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let refused = create_product_as(&clients, "SKU-3").await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "TOKEN_EXPIRED");
    assert_eq!(count_rows(&app, "products").await, 2);
}
