//! The orders service's side of the payment saga, wired: the channel to
//! the payment service (`--payments-url`, or this process's own address
//! when it runs the payment service too) and the saga's jobs on the orders
//! database's worker.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::StartupError;
use crate::{
    actions::{
        AppState,
        saga::{self, PaymentsClient, Saga, client::TokenSource},
    },
    config::{ServiceName, Settings},
    jobs::{Backoff, worker::Worker},
};

/// Where the payment service listens when it runs in a process of its own
/// and no --payments-url says otherwise.
const SEPARATE_PAYMENTS_URL: &str = "http://127.0.0.1:50052";

/// How many jobs the orders database's worker runs at once: the saga's
/// mostly wait for the payment service, holding no connection meanwhile.
const CONCURRENCY: usize = 16;

/// The orders worker with the saga's jobs, calling the payment service.
pub fn with_saga(
    worker: Worker,
    state: &AppState,
    settings: &Settings,
    bound: SocketAddr,
) -> Result<Worker, StartupError> {
    let url = payments_url(settings, bound);
    let channel = channel(settings, &url)?;
    let token = TokenSource::from_settings(settings.payments.payments_token_file.as_ref(), &settings.security.auth);
    tracing::info!(payments = %url, "the payment saga calls the payment service here");
    let saga = Arc::new(Saga {
        state: state.clone(),
        payments: PaymentsClient::new(channel, token),
    });
    let mut worker = saga::register(worker, saga);
    worker.concurrency = CONCURRENCY;
    worker.lease = saga::LEASE;
    // A payment service back from an outage is used again within 30 s.
    worker.retry = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    Ok(worker)
}

/// `--payments-url`; else this process's own address if it runs the
/// payment service; else the payment service's default address.
fn payments_url(settings: &Settings, bound: SocketAddr) -> String {
    if let Some(url) = &settings.payments.payments_url {
        return url.clone();
    }
    if !settings.runs(ServiceName::Payments) {
        return SEPARATE_PAYMENTS_URL.to_owned();
    }
    let tls = settings.security.tls.tls_cert.is_some();
    let host = match (tls, bound.ip()) {
        // The certificate names the host, not an address.
        (true, _) => "localhost".to_owned(),
        (false, ip) if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        (false, ip) if ip.is_unspecified() => "[::1]".to_owned(),
        (false, std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        (false, ip) => ip.to_string(),
    };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{host}:{}", bound.port())
}

/// A lazily connecting channel to `url`, with TLS for https.
fn channel(settings: &Settings, url: &str) -> Result<Channel, StartupError> {
    let invalid = |why: String| StartupError::Saga(format!("--payments-url {url:?}: {why}"));
    let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|e| invalid(e.to_string()))?;
    let endpoint = endpoint.connect_timeout(Duration::from_secs(5)).tcp_nodelay(true);
    let endpoint = match url.starts_with("https://") {
        true => endpoint
            .tls_config(client_tls(settings)?)
            .map_err(|e| invalid(e.to_string()))?,
        false => endpoint,
    };
    Ok(endpoint.connect_lazy())
}

/// TLS to the payment service: its CA, and this process's certificate as
/// the client's identity when it has one (for a payment service that
/// requires client certificates).
fn client_tls(settings: &Settings) -> Result<ClientTlsConfig, StartupError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| StartupError::Saga(format!("{}: {e}", path.display())))
    };
    let ca = settings.payments.payments_ca_file.as_deref().ok_or_else(|| {
        StartupError::Saga(
            "the payment service is reached over TLS: set --payments-ca-file to the CA that signed its certificate"
                .to_owned(),
        )
    })?;
    let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
    let tls = &settings.security.tls;
    if let (Some(cert), Some(key)) = (&tls.tls_cert, &tls.tls_key) {
        config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(config)
}
