//! Settings for the Prometheus endpoint: where `/metrics` is served.

use std::{fmt, net::SocketAddr, str::FromStr};

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct MetricsSettings {
    /// Address of the Prometheus endpoint (`GET /metrics`, text format), for
    /// every service this process runs. Port 0 picks a free port; an empty
    /// value turns metrics off. Several processes on one machine need one
    /// port each.
    #[arg(long, env = "ORDERS_METRICS_ADDR", default_value = "127.0.0.1:9464", global = true)]
    pub metrics_addr: MetricsAddr,
}

/// Where to serve metrics, or nowhere (an empty setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsAddr(pub Option<SocketAddr>);

impl FromStr for MetricsAddr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(MetricsAddr(None));
        }
        let addr = text.parse().map_err(|_| {
            format!("{text:?} is not an address: use IP:PORT such as 127.0.0.1:9464, or empty for none")
        })?;
        Ok(MetricsAddr(Some(addr)))
    }
}

impl fmt::Display for MetricsAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(addr) => write!(f, "{addr}"),
            None => Ok(()),
        }
    }
}
