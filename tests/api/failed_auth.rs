//! Failed authentications, limited per peer: a peer that has sent its
//! burst of bad tokens gets RESOURCE_EXHAUSTED (`AUTH_RATE_LIMITED`, with
//! `RetryInfo` and a `QuotaFailure` naming it) before any signature is
//! checked, so even a valid token it has never shown is refused, while the
//! tokens it had verified before go on; other addresses never notice, even
//! during a flood; and public health is never limited.

use std::{net::Ipv4Addr, time::Duration};

use orders::config::Settings;
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;

use crate::{
    api_calls::list_products_as,
    app::{Bearer, Clients, TestApp, connect_channel_from, spawn_secured_app_with},
    assertions::assert_error,
    timing::concurrently,
    tokens::{Signer, claims, sign, token},
};

const FLOODER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const BURST: u32 = 5;

/// A burst of [`BURST`] failures and next to no refill, so the counts are exact.
fn limit_failures(settings: &mut Settings) {
    settings.security.auth.auth_failure_rate = 0.001;
    settings.security.auth.auth_failure_burst = BURST;
}

/// Clients on a connection from `source`, sending `bearer`.
async fn from(app: &TestApp, source: Ipv4Addr, bearer: Bearer) -> Clients {
    Clients::new(connect_channel_from(app.addr, source).await, bearer)
}

/// A token signed by a key the server does not trust.
fn forged() -> Bearer {
    Bearer::token(&sign(Signer::Untrusted, &claims("mallory", &["customer"])))
}

#[track_caller]
fn assert_auth_rate_limited(status: &Status, peer: &str) {
    let details = assert_error(status, Code::ResourceExhausted, "AUTH_RATE_LIMITED");
    let quota = details.quota_failure().expect("a QuotaFailure");
    let subjects: Vec<&str> = quota.violations.iter().map(|v| v.subject.as_str()).collect();
    assert_eq!(subjects, [peer], "{status:?}");
    let retry = details
        .retry_info()
        .and_then(|r| r.retry_delay)
        .expect("a RetryInfo delay");
    assert!(retry > Duration::ZERO, "{retry:?}");
}

#[tokio::test]
async fn past_its_burst_of_failures_a_peer_is_refused_before_any_signature_is_checked() {
    let app = spawn_secured_app_with(limit_failures).await;
    // A caller behind the flooder's address, whose token was verified before.
    let known = from(&app, FLOODER, Bearer::token(&token("alice", &["customer"]))).await;
    list_products_as(&known).await.expect("alice's token verifies");

    let mallory = from(&app, FLOODER, forged()).await;
    for _ in 0..BURST {
        let refused = list_products_as(&mallory).await.unwrap_err();
        assert_error(&refused, Code::Unauthenticated, "TOKEN_SIGNATURE_INVALID");
    }
    let limited = list_products_as(&mallory).await.unwrap_err();
    assert_auth_rate_limited(&limited, "peer/127.0.0.2");

    // Refused before its signature is checked: even a valid token it never showed.
    let fresh = from(&app, FLOODER, Bearer::token(&token("bob", &["customer"]))).await;
    assert_auth_rate_limited(&list_products_as(&fresh).await.unwrap_err(), "peer/127.0.0.2");
    // What needs no signature goes on: a token verified before, public health.
    list_products_as(&known).await.expect("alice's remembered token");
    let check = mallory.health.clone().check(HealthCheckRequest::default()).await;
    assert!(check.is_ok(), "health is public: {check:?}");

    // Another address has its own count, untouched.
    let elsewhere = from(&app, Ipv4Addr::LOCALHOST, forged()).await;
    let refused = list_products_as(&elsewhere).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "TOKEN_SIGNATURE_INVALID");
    let carol = from(&app, Ipv4Addr::LOCALHOST, Bearer::token(&token("carol", &["customer"]))).await;
    list_products_as(&carol).await.expect("carol, from another address");
}

#[tokio::test]
async fn a_flood_of_bad_tokens_from_one_address_leaves_other_callers_alone() {
    let app = spawn_secured_app_with(limit_failures).await;
    let mallory = from(&app, FLOODER, forged()).await;
    let dave = from(&app, Ipv4Addr::LOCALHOST, Bearer::token(&token("dave", &["customer"]))).await;
    let before = timed_calls(&dave, 20).await;

    let flood = tokio::spawn(async move {
        let calls = concurrently(2000, |_| {
            let mallory = mallory.clone();
            async move { list_products_as(&mallory).await.unwrap_err() }
        });
        calls.await
    });
    let during = timed_calls(&dave, 50).await;
    let refusals = flood.await.unwrap();

    let reasons = |code| refusals.iter().filter(|s| s.code() == code).count();
    assert_eq!(reasons(Code::Unauthenticated), BURST as usize, "its burst was checked");
    assert_eq!(
        reasons(Code::ResourceExhausted),
        2000 - BURST as usize,
        "the rest refused unchecked"
    );
    // Dave's calls all succeeded (timed_calls asserts it) and did not queue
    // behind the flood: a generous bound, to catch waiting, not noise.
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (before, during) = (median(before), median(during));
    assert!(
        during < before * 20 + Duration::from_millis(50),
        "{before:?} before, {during:?} during the flood"
    );
}

/// `n` calls one after another, each of which must succeed; their durations.
async fn timed_calls(clients: &Clients, n: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n);
    for call in 0..n {
        let started = std::time::Instant::now();
        let result = list_products_as(clients).await;
        assert!(result.is_ok(), "call {call}: {result:?}");
        times.push(started.elapsed());
    }
    times
}
