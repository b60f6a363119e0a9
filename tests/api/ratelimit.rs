//! The per-caller rate limit, end to end: a token's subject gets its burst,
//! then RESOURCE_EXHAUSTED (`RATE_LIMITED`, with `RetryInfo` and a
//! `QuotaFailure` naming the caller) until its bucket refills; other callers
//! and health checks are untouched, even while one caller hammers the
//! server; callers with a client certificate and no token are limited per
//! certificate; and a rate of 0 turns the limit off.

use std::time::{Duration, Instant};

use orders::config::Settings;
use tonic::{Code, Status};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::{
    api_calls::list_products_as,
    app::{Bearer, Clients, TestApp, connect_channel, spawn_app_with, spawn_secured_app_with},
    assertions::assert_error,
    certs::{Certs, ClientAuth, tls_channel, use_tls},
    timing::concurrently,
    tokens::token,
};

/// Sets the limit: `rps` calls per second on average, `burst` at once.
fn limit(settings: &mut Settings, rps: f64, burst: u32) {
    settings.server.rate_limit_rps = rps;
    settings.server.rate_limit_burst = burst;
}

/// Clients sending a customer token of `subject`.
fn customer(app: &TestApp, subject: &str) -> Clients {
    app.with_token(&token(subject, &["customer"]))
}

/// Asserts that `status` is the rate limit's refusal of `subject` and
/// returns the delay its `RetryInfo` suggests.
#[track_caller]
fn assert_rate_limited(status: &Status, subject: &str) -> Duration {
    let details = assert_error(status, Code::ResourceExhausted, "RATE_LIMITED");
    let quota = details.quota_failure().expect("a QuotaFailure");
    let subjects: Vec<&str> = quota.violations.iter().map(|v| v.subject.as_str()).collect();
    assert_eq!(subjects, [subject], "QuotaFailure of {status:?}");
    let retry = details.retry_info().expect("a RetryInfo");
    retry.retry_delay.expect("RetryInfo has a delay")
}

#[tokio::test]
async fn a_caller_over_its_limit_is_refused_with_retry_info_and_others_are_not() {
    let app = spawn_secured_app_with(|s| limit(s, 2.0, 3)).await;
    let (alice, bob) = (customer(&app, "alice"), customer(&app, "bob"));

    for call in 1..=3 {
        let result = list_products_as(&alice).await;
        assert!(result.is_ok(), "alice's call {call} of her burst of 3: {result:?}");
    }
    let status = list_products_as(&alice)
        .await
        .expect_err("alice's 4th call is over the limit");
    let retry = assert_rate_limited(&status, "caller/alice");
    // At 2 calls per second the next token is at most 500 ms away.
    assert!(
        retry > Duration::ZERO && retry <= Duration::from_millis(500),
        "{retry:?}"
    );
    assert!(
        status
            .message()
            .contains("rate limit of 2 calls per second (bursts of 3)"),
        "{status:?}"
    );

    for call in 1..=3 {
        let result = list_products_as(&bob).await;
        assert!(
            result.is_ok(),
            "bob's call {call}, right after alice's refusal: {result:?}"
        );
    }
    assert_health_is_never_limited(&alice).await;

    // The suggested delay is honest: after it, alice is admitted again.
    tokio::time::sleep(retry + Duration::from_millis(50)).await;
    let result = list_products_as(&alice).await;
    assert!(result.is_ok(), "alice after waiting {retry:?}: {result:?}");
}

/// Health checks of a limited caller keep answering: load balancers and
/// monitors must be able to probe however busy the caller is.
async fn assert_health_is_never_limited(clients: &Clients) {
    for _ in 0..10 {
        let health = clients.health.clone().check(HealthCheckRequest::default()).await;
        let status = health.expect("a limited caller's health check").into_inner().status();
        assert_eq!(status, ServingStatus::Serving);
    }
}

/// Alice's calls per burst and Bob's calls meanwhile.
const HAMMER: usize = 100;
const BOB_CALLS: usize = 5;

#[tokio::test]
async fn a_noisy_caller_is_refused_at_once_while_others_are_served() {
    let (rps, burst) = (5.0, 5);
    let app = spawn_secured_app_with(|s| limit(s, rps, burst)).await;
    let alice = customer(&app, "alice");
    // Bob on a connection of his own, as another client process would be.
    let bob = Clients::new(
        connect_channel(app.addr).await,
        Bearer::token(&token("bob", &["customer"])),
    );

    let started = Instant::now();
    let hammering = concurrently(HAMMER, |_| {
        let alice = alice.clone();
        async move { list_products_as(&alice).await }
    });
    let (alice_results, bob_results) = tokio::join!(hammering, bob_calls(&bob));
    let elapsed = started.elapsed();

    assert!(
        elapsed < Duration::from_secs(5),
        "refusals came back at once, not after {elapsed:?}"
    );
    assert!(
        bob_results.iter().all(Result::is_ok),
        "bob was refused: {bob_results:?}"
    );
    let admitted = alice_results.iter().filter(|r| r.is_ok()).count();
    for status in alice_results.iter().filter_map(|r| r.as_ref().err()) {
        assert_rate_limited(status, "caller/alice");
    }
    // Her burst, plus what her bucket refilled while the calls ran.
    let most = burst as usize + (rps * elapsed.as_secs_f64()).ceil() as usize;
    assert!(
        (burst as usize..=most).contains(&admitted),
        "alice got {admitted} of {HAMMER} calls through in {elapsed:?}; expected {burst}..={most}"
    );
}

/// Bob's calls, one after the other, within his own burst.
async fn bob_calls(bob: &Clients) -> Vec<Result<usize, Status>> {
    let mut results = Vec::with_capacity(BOB_CALLS);
    for _ in 0..BOB_CALLS {
        results.push(list_products_as(bob).await);
    }
    results
}

#[tokio::test]
async fn callers_without_a_token_are_limited_per_client_certificate() {
    let certs = Certs::new();
    // No tokens: the certificate is the only identity (fine on loopback).
    let app = spawn_app_with(|s| {
        use_tls(s, &certs, ClientAuth::Required);
        limit(s, 0.5, 2);
    })
    .await;
    let a = Clients::new(
        tls_channel(&app, &certs, Some(&certs.client_a)).await,
        Bearer::default(),
    );
    let b = Clients::new(
        tls_channel(&app, &certs, Some(&certs.client_b)).await,
        Bearer::default(),
    );

    for call in 1..=2 {
        let result = list_products_as(&a).await;
        assert!(
            result.is_ok(),
            "certificate A's call {call} of its burst of 2: {result:?}"
        );
    }
    let status = list_products_as(&a)
        .await
        .expect_err("certificate A's 3rd call is over the limit");
    // The key is the fingerprint of A's leaf certificate, not its subject.
    assert_rate_limited(&status, &certs.client_a.rate_key());
    assert!(certs.client_a.rate_key().starts_with("certificate/"));

    let result = list_products_as(&b).await;
    assert!(result.is_ok(), "certificate B has a bucket of its own: {result:?}");
}

#[tokio::test]
async fn a_rate_of_zero_turns_the_limit_off() {
    // A burst of 1 would refuse the second call if the limit were on.
    let app = spawn_secured_app_with(|s| limit(s, 0.0, 1)).await;
    let alice = customer(&app, "alice");
    for call in 1..=50 {
        let result = list_products_as(&alice).await;
        assert!(result.is_ok(), "call {call} with the limit off: {result:?}");
    }
}
