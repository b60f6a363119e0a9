//! Settings of the payment service (its own database and address, its
//! processor) and of the orders service's side of the payment saga (where
//! it reaches the payment service, with which token, how long it waits).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;

use super::SecretUrl;

#[derive(Debug, Clone, Args)]
pub struct PaymentSettings {
    /// PostgreSQL URL of the payment service's own database. Default:
    /// `<orders database>_payments` on the orders database's server,
    /// created if missing.
    #[arg(long, env = "ORDERS_PAYMENTS_DATABASE_URL", global = true, hide_env_values = true)]
    pub payments_database_url: Option<SecretUrl>,

    /// Where the payment service listens when it is the only gRPC service
    /// of its process (`--services payments` or `payments,notifications`).
    /// Beside the orders service, it shares --addr.
    #[arg(long, env = "ORDERS_PAYMENTS_ADDR", default_value = "127.0.0.1:50052", global = true)]
    pub payments_addr: SocketAddr,

    /// Where the orders service calls the payment service, e.g.
    /// https://payments.internal:50052. Default: this process's own address
    /// when it runs the payment service too, else http://127.0.0.1:50052.
    #[arg(long, env = "ORDERS_PAYMENTS_URL", global = true)]
    pub payments_url: Option<String>,

    /// A file holding the bearer token (role `service`) the orders service
    /// sends to the payment service; read again at every change. Without
    /// it, the orders service mints its own short-lived token when
    /// --auth-hs256-secret-file is set, and sends none otherwise.
    #[arg(long, env = "ORDERS_PAYMENTS_TOKEN_FILE", global = true)]
    pub payments_token_file: Option<PathBuf>,

    /// The CA certificate (PEM) the orders service trusts for an https
    /// --payments-url, and for its own address when it runs the payment
    /// service itself with --tls-cert. With --tls-client-ca on the payment
    /// service, the orders service presents --tls-cert/--tls-key.
    #[arg(long, env = "ORDERS_PAYMENTS_CA_FILE", global = true)]
    pub payments_ca_file: Option<PathBuf>,

    /// How long an order paid by card may stay unpaid before it is
    /// cancelled (reason PAYMENT_TIMEOUT), its stock put back and its
    /// payment released.
    #[arg(long, env = "ORDERS_PAYMENT_TIMEOUT", value_parser = humantime::parse_duration, default_value = "15m", global = true)]
    pub payment_timeout: Duration,

    /// The development payment processor's delay before every answer, to
    /// try timeouts (e.g. `2s`). Not for production.
    #[arg(long, env = "ORDERS_PAYMENT_PROCESSOR_DELAY", value_parser = humantime::parse_duration, default_value = "0s", global = true)]
    pub payment_processor_delay: Duration,

    /// Makes the development payment processor answer every call as
    /// unreachable (UNAVAILABLE), to try outages. Not for production.
    #[arg(long, env = "ORDERS_PAYMENT_PROCESSOR_UNAVAILABLE", global = true)]
    pub payment_processor_unavailable: bool,
}
