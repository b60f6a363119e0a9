//! The keys of `--auth-jwks-url`, kept fresh while the server runs, so an
//! identity provider can rotate its keys without anyone restarting us.
//!
//! * At start the URL is fetched once, and a failure stops the start:
//!   there are no last good keys yet, and a server that refused every
//!   token would look healthy while failing every call.
//! * In the background ([`KeyRefresher`]) it is fetched again after the
//!   response's `Cache-Control: max-age`, kept between
//!   `--auth-jwks-refresh-min` and `--auth-jwks-refresh-max` (no max-age:
//!   the minimum, so a removed key stops counting soon).
//! * When a token names a `kid` no key has, it is fetched at once
//!   ([`RemoteKeys::refetch_for_unknown_kid`]), at most once per
//!   `--auth-jwks-kid-refetch-interval`: the first such token fetches and
//!   those arriving meanwhile wait for its result, so made-up `kid`s cannot
//!   make us hammer the identity provider.
//! * A fetch that fails keeps the last good keys, says so in one WARN line,
//!   is retried sooner (from 1 s, doubling, never later than the minimum),
//!   and shows in health ([`RemoteKeys::status`]) until one succeeds again.
//!
//! An unchanged JWKS changes nothing; a changed one is a new key
//! generation, so tokens verified with the old keys are checked again.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use tokio::{sync::watch, time::Instant};

use super::{
    Gate,
    jwks_url::{FetchError, JwksUrl, JwksUrlError},
    keys::{self, Unsupported},
    token::TokenVerifier,
};
use crate::{config::AuthSettings, jobs::Backoff};

/// The first wait before retrying a failed background fetch.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// The JWKS URL and what this process knows of it.
#[derive(Debug)]
pub struct RemoteKeys {
    source: JwksUrl,
    refresh_min: Duration,
    refresh_max: Duration,
    kid_refetch_interval: Duration,
    /// When the last unknown-`kid` fetch started; held during that fetch,
    /// so tokens arriving meanwhile wait for its result.
    kid_refetch: tokio::sync::Mutex<Option<Instant>>,
    /// The body whose keys are in use: the same body again changes nothing.
    installed: Mutex<Bytes>,
    /// Whether the last fetch succeeded.
    reachable: watch::Sender<bool>,
}

impl RemoteKeys {
    /// The URL the settings name, checked, or `None` when there is none.
    pub fn from_settings(settings: &AuthSettings) -> Result<Option<RemoteKeys>, JwksUrlError> {
        let (min, max) = (settings.auth_jwks_refresh_min, settings.auth_jwks_refresh_max);
        if min.is_zero() || min > max {
            return Err(JwksUrlError::RefreshBounds { min, max });
        }
        let Some(source) = JwksUrl::from_settings(settings)? else {
            return Ok(None);
        };
        Ok(Some(RemoteKeys {
            source,
            refresh_min: min,
            refresh_max: max,
            kid_refetch_interval: settings.auth_jwks_kid_refetch_interval,
            kid_refetch: tokio::sync::Mutex::new(None),
            installed: Mutex::new(Bytes::new()),
            reachable: watch::Sender::new(true),
        }))
    }

    /// The URL, for messages.
    pub fn url(&self) -> &str {
        self.source.url().as_str()
    }

    /// Whether the last fetch succeeded, as it changes.
    pub fn status(&self) -> watch::Receiver<bool> {
        self.reachable.subscribe()
    }

    /// Fetches the keys and verifies with them from now on; returns how
    /// long they may be used before the next background fetch. A failure
    /// is logged (once) and leaves the current keys.
    pub async fn fetch(&self, verifier: &TokenVerifier, why: &'static str) -> Result<Duration, FetchError> {
        let result = self.fetch_and_install(verifier, why).await;
        let url = self.source.url().as_str();
        match &result {
            Ok(_) if !self.reachable.send_replace(true) => {
                tracing::info!(url, why, "the JWKS URL answers again");
            }
            Ok(_) => {}
            Err(error) => {
                self.reachable.send_replace(false);
                tracing::warn!(url, why, %error, "token keys could not be fetched; the last good keys stay");
            }
        }
        result
    }

    /// The first fetch, at start: a failure is the caller's to report (the
    /// server does not start), so nothing is logged here.
    pub async fn fetch_at_start(&self, verifier: &TokenVerifier) -> Result<Duration, FetchError> {
        self.fetch_and_install(verifier, "start").await
    }

    async fn fetch_and_install(&self, verifier: &TokenVerifier, why: &'static str) -> Result<Duration, FetchError> {
        let fetched = self.source.fetch().await?;
        let refresh = fetched.max_age.unwrap_or(self.refresh_min);
        let refresh = refresh.clamp(self.refresh_min, self.refresh_max);
        let mut installed = self.installed.lock().unwrap_or_else(PoisonError::into_inner);
        if *installed != fetched.body {
            let keys = keys::parse_jwks(&fetched.body, self.url(), Unsupported::Skip)?;
            let count = verifier.replace_fetched(keys);
            *installed = fetched.body;
            tracing::info!(
                url = self.source.url().as_str(),
                keys = count,
                why,
                "token keys fetched"
            );
        }
        Ok(refresh)
    }

    /// Fetches the keys at once for a token that names an unknown `kid`,
    /// unless such a fetch started less than the refetch interval ago.
    /// Called while another runs, waits for it (and then does not fetch).
    pub async fn refetch_for_unknown_kid(&self, verifier: &TokenVerifier) {
        let mut last = self.kid_refetch.lock().await;
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < self.kid_refetch_interval) {
            return;
        }
        *last = Some(now);
        // A failure is logged and counted in health; the token is then
        // refused as for any unknown key.
        let _ = self.fetch(verifier, "a token names an unknown key").await;
    }

    /// The wait before retrying after `failures` failed fetches in a row:
    /// from a second, doubling, never past the minimum refresh interval.
    fn retry_after(&self, failures: u32) -> Duration {
        let backoff = Backoff::new(FIRST_RETRY, self.refresh_min);
        backoff.undisturbed(i32::try_from(failures).unwrap_or(i32::MAX))
    }
}

/// Fetches a gate's JWKS URL again whenever its keys are due.
pub struct KeyRefresher {
    gate: Arc<Gate>,
    /// When the keys fetched at start are due.
    first: Duration,
}

impl KeyRefresher {
    /// The refresher of `gate`'s URL, whose keys fetched at start are due
    /// after `first`; `None` when the gate has no URL.
    pub fn new(gate: Arc<Gate>, first: Duration) -> Option<KeyRefresher> {
        gate.remote.is_some().then_some(KeyRefresher { gate, first })
    }

    /// Fetches whenever the keys are due, or sooner after a failure (its
    /// own, or that of a fetch for an unknown `kid`), until `shutdown`
    /// completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (Some(remote), Some(verifier)) = (&self.gate.remote, &self.gate.verifier) else {
            return;
        };
        tokio::pin!(shutdown);
        let mut reachable = remote.status();
        let mut next = Instant::now() + self.first;
        let mut failures = 0;
        loop {
            let fetch = async {
                tokio::time::sleep_until(next).await;
                remote.fetch(verifier, "the keys were due").await
            };
            tokio::select! {
                () = &mut shutdown => return,
                result = fetch => {
                    // This fetch's own change of `reachable` needs no wake-up.
                    reachable.mark_unchanged();
                    failures = if result.is_ok() { 0 } else { failures + 1 };
                    next = Instant::now() + result.unwrap_or_else(|_| remote.retry_after(failures));
                }
                // A fetch for an unknown kid failed: retry on the failure
                // schedule, not after the max-age, so health soon shows the
                // source back.
                Ok(()) = reachable.changed() => {
                    if !*reachable.borrow_and_update() && failures == 0 {
                        failures = 1;
                        next = next.min(Instant::now() + remote.retry_after(failures));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn remote(min: Duration) -> Result<Option<RemoteKeys>, JwksUrlError> {
        let mut auth = Settings::defaults().security.auth;
        auth.auth_jwks_url = Some("https://id.example.com/jwks".into());
        auth.auth_jwks_refresh_min = min;
        RemoteKeys::from_settings(&auth)
    }

    #[test]
    fn retries_back_off_from_a_second_but_never_past_the_minimum() {
        let minute = remote(Duration::from_secs(60)).unwrap().unwrap();
        let waits: Vec<u64> = (1..=8).map(|n| minute.retry_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(minute.retry_after(1000), Duration::from_secs(60));
        let short = remote(Duration::from_millis(200)).unwrap().unwrap();
        assert_eq!(short.retry_after(1), Duration::from_millis(200));
    }

    #[test]
    fn the_refresh_bounds_must_make_sense() {
        assert!(matches!(
            remote(Duration::ZERO),
            Err(JwksUrlError::RefreshBounds { .. })
        ));
        assert!(matches!(
            remote(Duration::from_secs(7200)),
            Err(JwksUrlError::RefreshBounds { .. })
        ));
    }
}
