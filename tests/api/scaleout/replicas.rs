//! Several `orders serve` processes (the real binary) on one database, each
//! on its own gRPC and metrics port: started, killed with SIGKILL, or
//! restarted the way a rolling restart does it (SIGTERM, wait for the exit,
//! start again on the same ports, wait for SERVING).
//!
//! Here so that the scale-out tests see exactly what an operator's
//! processes do, and can tell which replica answered each call: every
//! replica counts its own calls on its own `/metrics`.

use std::net::SocketAddr;

use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::{
    binary::Server,
    local_machine::free_port,
    metrics::exposition::scrape,
    timing::{eventually, within},
};

/// One replica: its addresses, and the process while it runs.
pub struct Replica {
    pub addr: SocketAddr,
    pub metrics: String,
    database_url: String,
    /// Environment beyond [`Server::start`]'s (which runs the orders
    /// service alone, its relay off).
    env: Vec<(String, String)>,
    process: Option<Server>,
}

impl Replica {
    /// Starts a replica on free ports and waits until it is SERVING.
    pub async fn start(database_url: &str) -> Replica {
        Replica::start_with(database_url, &[]).await
    }

    /// [`Replica::start`] with more environment (`ORDERS_SERVICES`, ...).
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Replica {
        let mut replica = Replica {
            addr: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
            metrics: format!("127.0.0.1:{}", free_port()),
            database_url: database_url.to_owned(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            process: None,
        };
        replica.start_again().await;
        replica
    }

    /// (Re)starts the process on the same ports; returns once its own
    /// health service says SERVING.
    pub async fn start_again(&mut self) {
        let (addr, metrics) = (self.addr.to_string(), self.metrics.clone());
        // A short drain and health probe keep the restarts of a test quick;
        // the flags are the ones an operator would set.
        let args = [
            "serve",
            "--addr",
            &addr,
            "--metrics-addr",
            &metrics,
            "--drain-timeout",
            "3s",
            "--health-check-interval",
            "200ms",
            "--db-pool-size",
            "4",
        ];
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.process = Some(Server::start(&self.database_url, &args, &env));
        eventually(30, "the replica is SERVING", || self.serving()).await;
    }

    /// Whether the replica's own health service answers SERVING.
    async fn serving(&self) -> bool {
        let endpoint = Channel::from_shared(format!("http://{}", self.addr)).unwrap();
        let Ok(channel) = endpoint.connect().await else {
            return false;
        };
        let mut health = HealthClient::new(channel);
        let check = health.check(HealthCheckRequest { service: String::new() });
        matches!(within(5, check).await, Ok(r) if r.get_ref().status() == ServingStatus::Serving)
    }

    /// The running process's log so far.
    pub fn log(&self) -> String {
        self.process.as_ref().expect("the replica is running").log()
    }

    /// SIGTERM, then the exit (asserted clean, within the drain timeout).
    pub async fn terminate(&mut self) {
        let server = self.process.take().expect("the replica is running");
        within(10, server.stop()).await;
    }

    /// SIGKILL: a crash, as far as nginx and the callers can tell.
    pub fn kill(&mut self) {
        let server = self.process.take().expect("the replica is running");
        server.signal("KILL");
    }

    /// How many calls of `method` this replica has answered with OK.
    pub async fn answered(&self, method: &str) -> f64 {
        let exposition = within(5, scrape(&self.metrics)).await;
        (exposition.series("grpc_server_handled_total").into_iter())
            .filter(|(labels, _)| labels.iter().any(|(k, v)| k == "grpc_method" && v == method))
            .filter(|(labels, _)| labels.iter().any(|(k, v)| k == "grpc_code" && v == "OK"))
            .map(|(_, value)| value)
            .sum()
    }
}

/// `n` replicas on the database at `database_url`, started one by one.
pub async fn start_replicas(database_url: &str, n: usize) -> Vec<Replica> {
    let mut replicas = Vec::with_capacity(n);
    for _ in 0..n {
        replicas.push(Replica::start(database_url).await);
    }
    replicas
}
