//! Settings for who may call the service: bearer-token verification, TLS
//! (optionally mutual), and whether the server may serve the network
//! without authentication at all.
//!
//! Only paths are configured here, never key material: secrets are read
//! from their files at start-up ([`crate::auth::keys`]), so they cannot end
//! up in `--help` output, in a `Debug` print of the settings or in `ps`.

use std::{path::PathBuf, time::Duration};

use clap::{ArgAction, Args};

#[derive(Debug, Clone, Args)]
pub struct SecuritySettings {
    #[command(flatten)]
    pub auth: AuthSettings,

    #[command(flatten)]
    pub tls: TlsSettings,

    /// Allow serving a non-loopback address without authentication. Without
    /// it the server refuses to start that way; with it, it warns loudly.
    #[arg(long, env = "ORDERS_INSECURE", global = true)]
    pub insecure: bool,
}

/// Bearer tokens (JWT) in the `authorization` metadata. Authentication is on
/// as soon as any key is configured; `--auth-issuer` and `--auth-audience`
/// are then required.
#[derive(Debug, Clone, Args)]
pub struct AuthSettings {
    /// A JWKS file (RFC 7517) of RS256 and/or EdDSA public keys. Tokens name
    /// their key with `kid`.
    #[arg(long, env = "ORDERS_AUTH_JWKS", global = true)]
    pub auth_jwks: Option<PathBuf>,

    /// A URL to fetch a JWKS from, such as an identity provider's
    /// `jwks_uri`: `https://`, or `http://` only on a loopback host. Fetched
    /// at start (the server does not start if that fails), then again in
    /// the background and, at most once per
    /// `--auth-jwks-kid-refetch-interval`, when a token names a `kid` no key
    /// has. Its keys are added to those of the files.
    #[arg(long, env = "ORDERS_AUTH_JWKS_URL", global = true)]
    pub auth_jwks_url: Option<String>,

    /// Extra root CA certificates (PEM) trusted for `--auth-jwks-url`,
    /// beside the system's.
    #[arg(long, env = "ORDERS_AUTH_JWKS_CA_FILE", global = true)]
    pub auth_jwks_ca_file: Option<PathBuf>,

    /// The shortest time between two background fetches of the JWKS URL,
    /// whatever its `Cache-Control: max-age` says; also the interval when
    /// it gives no max-age, and the longest wait between retries while
    /// the URL cannot be fetched.
    #[arg(long, env = "ORDERS_AUTH_JWKS_REFRESH_MIN", value_parser = humantime::parse_duration, default_value = "1m", global = true)]
    pub auth_jwks_refresh_min: Duration,

    /// The longest time between two background fetches of the JWKS URL,
    /// whatever its `Cache-Control: max-age` says.
    #[arg(long, env = "ORDERS_AUTH_JWKS_REFRESH_MAX", value_parser = humantime::parse_duration, default_value = "1h", global = true)]
    pub auth_jwks_refresh_max: Duration,

    /// At most one fetch of the JWKS URL per this interval for tokens that
    /// name an unknown `kid`, so made-up `kid`s cannot flood the identity
    /// provider; tokens arriving while it runs wait for its result.
    #[arg(long, env = "ORDERS_AUTH_JWKS_KID_REFETCH_INTERVAL", value_parser = humantime::parse_duration, default_value = "10s", global = true)]
    pub auth_jwks_kid_refetch_interval: Duration,

    /// PEM public key files (RSA for RS256, Ed25519 for EdDSA); several are
    /// separated by commas in the environment variable. A PEM key has no
    /// `kid`, so it is tried for any token of its algorithm.
    #[arg(long, env = "ORDERS_AUTH_PUBLIC_KEYS", value_delimiter = ',', global = true)]
    pub auth_public_key: Vec<PathBuf>,

    /// A file holding an HS256 shared secret (at least 32 bytes; a trailing
    /// newline is ignored). Meant for development: whoever can verify can
    /// also mint tokens (`orders token`).
    #[arg(long, env = "ORDERS_AUTH_HS256_SECRET_FILE", global = true)]
    pub auth_hs256_secret_file: Option<PathBuf>,

    /// The `iss` every token must carry, e.g. `https://id.example.com/`.
    #[arg(long, env = "ORDERS_AUTH_ISSUER", global = true)]
    pub auth_issuer: Option<String>,

    /// The `aud` every token must include, e.g. `orders`.
    #[arg(long, env = "ORDERS_AUTH_AUDIENCE", global = true)]
    pub auth_audience: Option<String>,

    /// Clock skew tolerated when checking `exp` and `nbf`.
    #[arg(long, env = "ORDERS_AUTH_LEEWAY", value_parser = humantime::parse_duration, default_value = "30s", global = true)]
    pub auth_leeway: Duration,

    /// How often the key files are looked at; one that changed is read
    /// again, and its keys verify tokens from then on (SIGHUP reads them at
    /// once).
    #[arg(long, env = "ORDERS_AUTH_KEY_CHECK_INTERVAL", value_parser = humantime::parse_duration, default_value = "5s", global = true)]
    pub auth_key_check_interval: Duration,

    /// Failed authentications (no token, or one that does not verify) each
    /// peer address (or client certificate) may have per second on
    /// average; past it, that peer's calls whose tokens are not already
    /// verified are refused with RESOURCE_EXHAUSTED before any signature is
    /// checked. 0 turns the limit off.
    #[arg(long, env = "ORDERS_AUTH_FAILURE_RATE", default_value_t = 1.0, value_parser = super::non_negative, global = true)]
    pub auth_failure_rate: f64,

    /// Failed authentications a peer may have at once above that rate.
    #[arg(long, env = "ORDERS_AUTH_FAILURE_BURST", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub auth_failure_burst: u32,

    /// Whether `grpc.health.v1.Health` answers callers without a token.
    #[arg(long, env = "ORDERS_AUTH_PUBLIC_HEALTH", action = ArgAction::Set, default_value_t = true, global = true)]
    pub auth_public_health: bool,

    /// Whether server reflection answers callers without a token.
    #[arg(long, env = "ORDERS_AUTH_PUBLIC_REFLECTION", action = ArgAction::Set, default_value_t = true, global = true)]
    pub auth_public_reflection: bool,
}

impl AuthSettings {
    /// True when any verification key is configured.
    pub fn is_enabled(&self) -> bool {
        self.auth_jwks.is_some()
            || self.auth_jwks_url.is_some()
            || !self.auth_public_key.is_empty()
            || self.auth_hs256_secret_file.is_some()
    }
}

/// TLS through rustls. With a client CA, every client must present a
/// certificate signed by it, or the handshake fails.
#[derive(Debug, Clone, Args)]
pub struct TlsSettings {
    /// The server's certificate chain (PEM). Needs --tls-key.
    #[arg(long, env = "ORDERS_TLS_CERT", requires = "tls_key", global = true)]
    pub tls_cert: Option<PathBuf>,

    /// The server's private key (PEM). Needs --tls-cert.
    #[arg(long, env = "ORDERS_TLS_KEY", requires = "tls_cert", global = true)]
    pub tls_key: Option<PathBuf>,

    /// CA certificate(s) (PEM) that client certificates must chain to:
    /// turns on mutual TLS. Needs --tls-cert.
    #[arg(long, env = "ORDERS_TLS_CLIENT_CA", requires = "tls_cert", global = true)]
    pub tls_client_ca: Option<PathBuf>,
}
