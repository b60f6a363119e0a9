//! The Python client in `tests/python/client_test.py`, a client that is not
//! ours, generated from the protos with `grpc_tools.protoc`, runs its
//! scenarios against the live server (the script's docstring lists them):
//! an order's life (create, get, history, cancel), rich error details, the
//! catalog (search, update with an etag, archive), the warehouse's pick
//! list and shipping, and orders paid by card (paid, refunded, declined)
//! with the payment service's ledger. The server runs the payment service
//! beside the orders service, as it does by default.
//!
//! It needs the virtualenv that `scripts/python-env` creates (grpcio and
//! friends); the test runs that script itself, so `cargo test` works on a
//! fresh machine with python3. The install happens once; later runs find it
//! up to date in a fraction of a second, and the script's lock makes the
//! parallel calls of several tests safe. (The README's grpcurl examples, run
//! the same way, are in [`crate::readme_examples`]; the Python client over
//! TLS with tokens is in [`crate::tls`].)

use std::time::Duration;

use tokio::process::Command;

use crate::{
    app::spawn_app_with_payments,
    local_machine::{python_venv, repo, run_to_success},
};

/// Generous: the payment scenarios each wait up to 20 s for the saga.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread")]
async fn python_client_runs_its_scenarios() {
    let app = spawn_app_with_payments(|_| {}).await;
    let venv = python_venv().await;
    let mut client = Command::new(venv.join("bin/python"));
    client
        .arg(repo().join("tests/python/client_test.py"))
        .arg(app.addr.to_string());
    let output = run_to_success(&mut client, CLIENT_TIMEOUT, "the Python client").await;
    // What each scenario did, and how long it took (`--nocapture` shows it).
    print!("{}", String::from_utf8_lossy(&output.stdout));
}
