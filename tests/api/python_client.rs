//! The Python client in `tests/python/client_test.py`, a client that is not
//! ours, walks an order through its life against the live server: create,
//! get, history, cancel.
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
    app::spawn_app,
    local_machine::{python_venv, repo, run_to_success},
};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn python_client_runs_create_get_history_cancel() {
    let app = spawn_app().await;
    let venv = python_venv().await;
    let mut client = Command::new(venv.join("bin/python"));
    client
        .arg(repo().join("tests/python/client_test.py"))
        .arg(app.addr.to_string());
    run_to_success(&mut client, CLIENT_TIMEOUT, "the Python client").await;
}
