//! The TypeScript client for Node in `clients/node/` (connect-node's gRPC
//! transport, code generated from `proto/` by buf and protoc-gen-es), a
//! client that is not ours, walks an order paid by card through its life
//! against the live server with authentication on: a catalog admin creates
//! a product; the customer places an order, sees it paid, finds it in its
//! history, cancels it and sees it refunded and the stock back; then errors,
//! decoded from their `google.rpc` details. `clients/node/client-test.ts`
//! holds the exact assertions.
//!
//! It needs `clients/`'s node_modules and generated code, which
//! `scripts/node-env` makes (the test runs it, so `cargo test` works on a
//! fresh machine with Node.js and npm, and fails when they are missing).
//! The install happens once; later runs find it up to date, and the script's
//! lock makes parallel calls safe.

use std::time::Duration;

use tokio::process::Command;

use crate::{
    app::spawn_app_with_payments,
    local_machine::{path_printed_by, run_to_success},
    tokens::{self, Signer, claims, sign},
};

/// Generous: a cold `npm ci` downloads about 60 MB.
const NODE_ENV_TIMEOUT: Duration = Duration::from_secs(600);
/// The client waits at most 30 s for each of the saga's steps.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn typescript_client_runs_create_pay_history_cancel_refund() {
    // First: without Node.js and npm, this fails here, before a server starts.
    let clients = path_printed_by("scripts/node-env", NODE_ENV_TIMEOUT).await;
    let app = spawn_app_with_payments(tokens::require_tokens).await;
    // Minted after the install, which may take minutes: they last ten.
    // HS256, as `orders token` signs them with the development secret.
    let catalog_admin = sign(Signer::Hs256, &claims("catalog", &["catalog-admin"]));
    let customer = sign(Signer::Hs256, &claims("ada", &["customer"]));

    let mut client = Command::new("npm");
    client
        .current_dir(&clients)
        .args(["run", "--silent", "test:node", "--"])
        .arg(format!("http://{}", app.addr))
        .args([&catalog_admin, &customer]);
    let output = run_to_success(&mut client, CLIENT_TIMEOUT, "the TypeScript client").await;
    // It says so only after its last step: a client that stopped early
    // without failing cannot pass.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().last(), Some("all steps passed"), "{stdout}");
}
