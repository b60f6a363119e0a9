//! TLS for the gRPC server (rustls, through tonic), optionally mutual.
//!
//! With `--tls-client-ca`, the handshake demands a client certificate that
//! chains to that CA: a client without one cannot even connect, before any
//! call or token is looked at. The certificate's fingerprint then keys the
//! rate limit of callers that send no token.

use std::{path::Path, time::Duration};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
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
    #[error("{flag} {path}: {problem}")]
    File {
        flag: &'static str,
        path: String,
        problem: String,
    },
    #[error("invalid TLS configuration (--tls-cert, --tls-key, --tls-client-ca): {0}")]
    Invalid(String),
}

/// The server's TLS configuration, or `None` for plaintext. The files are
/// read and checked now, so that a bad certificate fails the start.
pub fn server_config(settings: &TlsSettings) -> Result<Option<ServerTlsConfig>, TlsError> {
    let (Some(cert), Some(key)) = (&settings.tls_cert, &settings.tls_key) else {
        return Ok(None);
    };
    let (cert, key) = (certificates("--tls-cert", cert)?, private_key("--tls-key", key)?);
    let mut config = ServerTlsConfig::new()
        .identity(Identity::from_pem(cert, key))
        .timeout(HANDSHAKE_TIMEOUT);
    if let Some(ca) = &settings.tls_client_ca {
        config = config.client_ca_root(Certificate::from_pem(certificates("--tls-client-ca", ca)?));
    }
    // Each file is fine on its own; this catches what only the whole shows,
    // such as a key that does not belong to the certificate.
    if let Err(error) = Server::builder().tls_config(config.clone()) {
        return Err(TlsError::Invalid(error_chain(&error)));
    }
    Ok(Some(config))
}

/// The PEM in `path` if it holds one or more certificates and nothing broken.
fn certificates(flag: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let pem = read(path)?;
    let parsed: Result<Vec<CertificateDer>, _> = CertificateDer::pem_slice_iter(&pem).collect();
    match parsed {
        Ok(certs) if !certs.is_empty() => Ok(pem),
        Ok(_) => Err(bad_file(
            flag,
            path,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        )),
        Err(error) => Err(bad_file(flag, path, format!("is not valid PEM: {error}"))),
    }
}

/// The PEM in `path` if it holds a private key.
fn private_key(flag: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let pem = read(path)?;
    match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(_) => Ok(pem),
        Err(error) => Err(bad_file(
            flag,
            path,
            format!("holds no usable PEM private key: {error}"),
        )),
    }
}

fn bad_file(flag: &'static str, path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::File {
        flag,
        path: path.display().to_string(),
        problem: problem.into(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// When the first certificate in `path` (a chain's leaf) is valid, as Unix
/// seconds: (not before, not after).
pub fn validity(path: &Path) -> Result<(i64, i64), String> {
    let pem = read(path).map_err(|e| e.to_string())?;
    let first = CertificateDer::pem_slice_iter(&pem).next();
    let der = first.ok_or("no certificate")?.map_err(|e| e.to_string())?;
    let (_, certificate) = x509_parser::parse_x509_certificate(&der).map_err(|e| e.to_string())?;
    let validity = certificate.validity();
    Ok((validity.not_before.timestamp(), validity.not_after.timestamp()))
}

/// An error with its causes on one line, since tonic's own message is
/// often just "transport error".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
