//! `scripts/cluster`, run as a person runs it: it prints nginx's address
//! once its replicas and nginx are up, calls through that address reach
//! the service, and SIGTERM (or Ctrl-C) stops every process it started.

use std::{net::SocketAddr, path::Path, process::Stdio};

use orders::proto::catalog_service_client::CatalogServiceClient;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};

use crate::{
    app::connect_channel,
    local_machine::{fresh_dir, repo},
    requests::product_request,
    test_database::TestDatabase,
    timing::within,
};

#[tokio::test]
async fn scripts_cluster_serves_through_nginx_and_stops_everything_on_sigterm() {
    let database = TestDatabase::create().await;
    let run_dir = fresh_dir("cluster");
    let (mut script, addr) = start_cluster(&database.url, &run_dir).await;

    let channel = connect_channel(addr).await;
    let mut catalog = CatalogServiceClient::new(channel);
    for sku in ["A", "B", "C", "D"] {
        let made = catalog.create_product(product_request(sku, (1, 0, "EUR"), 5)).await;
        assert_eq!(made.unwrap().into_inner().product.unwrap().sku, sku);
    }

    let pid = script.id().unwrap().to_string();
    let signalled = std::process::Command::new("kill").args(["-TERM", &pid]).status();
    assert!(signalled.unwrap().success());
    let exit = within(30, script.wait()).await.unwrap();
    let mut stderr = String::new();
    script.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
    assert_eq!(exit.code(), Some(143), "exits as SIGTERM asks:\n{stderr}");
    for listener in listeners(&stderr).into_iter().chain([addr]) {
        let refused = tokio::net::TcpStream::connect(listener).await.is_err();
        assert!(refused, "{listener} still listens after the script ended:\n{stderr}");
    }
    std::fs::remove_dir_all(run_dir).unwrap();
}

/// `scripts/cluster 2` on the database at `database_url`, its files in
/// `run_dir`; returns it once it printed nginx's address, and the address.
async fn start_cluster(database_url: &str, run_dir: &Path) -> (Child, SocketAddr) {
    let mut script = Command::new("bash")
        .arg(repo().join("scripts/cluster"))
        .args(["2", "--services", "orders", "--outbox-relay=false"])
        .env("ORDERS_BIN", env!("CARGO_BIN_EXE_orders"))
        .env("DATABASE_URL", database_url)
        .env("ORDERS_CLUSTER_DIR", run_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("scripts/cluster starts");
    let mut stdout = BufReader::new(script.stdout.take().unwrap()).lines();
    let printed = within(120, stdout.next_line()).await.unwrap();
    let addr = printed.expect("the script prints nginx's address").parse().unwrap();
    (script, addr)
}

/// The replicas' addresses, from the script's lines "replica i on ADDR …".
fn listeners(stderr: &str) -> Vec<SocketAddr> {
    let replicas: Vec<SocketAddr> = (stderr.lines())
        .filter_map(|line| line.strip_prefix("cluster: replica "))
        .map(|rest| rest.split(' ').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(replicas.len(), 2, "{stderr}");
    replicas
}
