//! Authentication and method-level authorization, before anything else
//! looks at the request ([`crate::auth::Gate`] decides).
//!
//! An admitted call carries its [`Caller`] (for the handlers) and, when the
//! caller has an identity, a [`RateKey`] (for the rate limit) in its
//! extensions, and its verified subject goes to the call's log line. A
//! refused one is answered here with UNAUTHENTICATED or PERMISSION_DENIED
//! and never reaches a handler.
//!
//! The `authorization` metadata is removed once verified, so nothing further
//! in can log or forward the token by accident.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::{
    check::{Check, CheckLayer},
    log::LoggedCaller,
};
use crate::auth::{Caller, Gate};

/// Whom a call counts against for rate limiting: `caller/<sub>` for a
/// verified token, else `certificate/<sha256 prefix>` for a TLS client
/// certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(pub Arc<str>);

/// The auth layer: the [`Gate`] as a [`Check`].
pub type AuthLayer = CheckLayer<Authenticate>;

impl AuthLayer {
    pub fn from_gate(gate: Arc<Gate>) -> AuthLayer {
        CheckLayer::new(Authenticate(gate))
    }
}

/// Runs the [`Gate`] on a request and records what it admitted.
#[derive(Debug, Clone)]
pub struct Authenticate(Arc<Gate>);

impl Check for Authenticate {
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), tonic::Status> {
        let admitted = self.0.admit(request.uri().path(), request.headers())?;
        request.headers_mut().remove(http::header::AUTHORIZATION);
        let key = match &admitted.subject {
            Some(subject) => Some(format!("caller/{subject}")),
            None => client_certificate(request).map(|print| format!("certificate/{print}")),
        };
        let extensions = request.extensions_mut();
        if let (Some(subject), Some(logged)) = (admitted.subject, extensions.get::<LoggedCaller>()) {
            logged.set(subject);
        }
        if let Some(caller) = admitted.caller {
            extensions.insert::<Arc<Caller>>(caller);
        }
        if let Some(key) = key {
            extensions.insert(RateKey(key.into()));
        }
        Ok(())
    }
}

/// The first 16 bytes of the SHA-256 of the client's leaf certificate, in
/// hex, when the connection is TLS with a client certificate.
fn client_certificate<B>(request: &http::Request<B>) -> Option<String> {
    let info = request.extensions().get::<TlsConnectInfo<TcpConnectInfo>>()?;
    let certs = info.peer_certs()?;
    let leaf = certs.first()?;
    let digest = Sha256::digest(leaf.as_ref());
    Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}
