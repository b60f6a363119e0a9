//! Time limits and concurrency for tests: a bound on how long anything may
//! take, polling until something holds, and many calls started at once.
//!
//! Here so that a test that hangs fails with a message instead of stalling
//! the run, and so that races are started the same way everywhere.

use std::{future::Future, time::Duration};

/// Awaits `future`, failing the test if it takes longer than `seconds`.
pub async fn within<T>(seconds: u64, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("did not finish within {seconds} s"))
}

/// Polls `probe` every 50 ms until it returns true; panics after `seconds`.
pub async fn eventually<F, Fut>(seconds: u64, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while !probe().await {
        assert!(tokio::time::Instant::now() < deadline, "not {what} within {seconds} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `n` calls at once, each in its own task, and waits for all.
pub async fn concurrently<T, F, Fut>(n: usize, mut call: F) -> Vec<T>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(i))).collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(within(30, task).await.expect("the call's task does not panic"));
    }
    results
}
