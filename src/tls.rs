//! TLS for the gRPC server (rustls, through tonic), optionally mutual.
//!
//! With `--tls-client-ca`, the handshake demands a client certificate that
//! chains to that CA: a client without one cannot even connect, before any
//! call or token is looked at. The certificate's fingerprint then keys the
//! rate limit of callers that send no token.

use std::{path::Path, time::Duration};

use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use crate::config::TlsSettings;

/// How long a client may take over its TLS handshake; a slow or stalled
/// one would otherwise hold its connection open indefinitely.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why TLS cannot be set up as configured; the server does not start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid TLS configuration (--tls-cert, --tls-key, --tls-client-ca): {0}")]
    Invalid(String),
}

/// The server's TLS configuration, or `None` for plaintext. The files are
/// read and checked now, so that a bad certificate fails the start.
pub fn server_config(settings: &TlsSettings) -> Result<Option<ServerTlsConfig>, TlsError> {
    let (Some(cert), Some(key)) = (&settings.tls_cert, &settings.tls_key) else {
        return Ok(None);
    };
    let mut config = ServerTlsConfig::new()
        .identity(Identity::from_pem(read(cert)?, read(key)?))
        .timeout(HANDSHAKE_TIMEOUT);
    if let Some(ca) = &settings.tls_client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    if let Err(error) = Server::builder().tls_config(config.clone()) {
        return Err(TlsError::Invalid(chain(&error)));
    }
    Ok(Some(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// An error with its causes, since tonic's own message is only "transport error".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
