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
//!
//! Failed authentications (UNAUTHENTICATED: no token, or one that does not
//! verify) are counted per peer, its client certificate or else its IP
//! address, in a token bucket (`--auth-failure-rate`, `--auth-failure-burst`).
//! Past the limit, the peer's calls are refused with RESOURCE_EXHAUSTED
//! (`AUTH_RATE_LIMITED`, with `RetryInfo`) before any signature is checked,
//! unless the gate can decide them without one (a public method, a token
//! verified before): a flood of bad tokens costs a lookup per call, and the
//! callers behind the same address whose tokens were already verified go
//! on. Callers from other addresses never notice.

use std::{sync::Arc, time::Duration};

use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::{
    check::{Check, CheckLayer},
    log::LoggedCaller,
    rate_limit::RateLimiter,
};
use crate::{
    auth::{Caller, Gate},
    error::ApiError,
};

/// Whom a call counts against for rate limiting: `caller/<sub>` for a
/// verified token, else `certificate/<sha256 prefix>` for a TLS client
/// certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(pub Arc<str>);

/// The auth layer: the [`Gate`] as a [`Check`].
pub type AuthLayer = CheckLayer<Authenticate>;

impl AuthLayer {
    /// The gate, and the limit on failed authentications per peer (`None`:
    /// unlimited).
    pub fn from_gate(gate: Arc<Gate>, failures: Option<Arc<RateLimiter>>) -> AuthLayer {
        CheckLayer::new(Authenticate { gate, failures })
    }
}

/// Runs the [`Gate`] on a request and records what it admitted; counts
/// each peer's failed authentications, and past their limit refuses the
/// peer's calls that would need a signature checked.
#[derive(Debug, Clone)]
pub struct Authenticate {
    gate: Arc<Gate>,
    failures: Option<Arc<RateLimiter>>,
}

impl Check for Authenticate {
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), tonic::Status> {
        let certificate = client_certificate(request);
        let counted = self.failures_of(request, certificate.as_deref());
        if let Some((failures, peer)) = &counted
            && let Some(retry_after) = failures.exhausted(peer, Instant::now())
            && !self
                .gate
                .decides_without_signature(request.uri().path(), request.headers())
        {
            crate::monitoring::count_refusal(true, "AUTH_RATE_LIMITED");
            return Err(auth_rate_limited(failures, peer, retry_after).into());
        }
        let admitted = match self.gate.admit(request.uri().path(), request.headers()) {
            Ok(admitted) => admitted,
            Err(error) => {
                if let ApiError::Unauthenticated { reason, .. } = &error {
                    crate::monitoring::count_refusal(false, reason);
                }
                if let (Some((failures, peer)), ApiError::Unauthenticated { .. }) = (&counted, &error) {
                    // Only counted: this call has its answer already.
                    let _ = failures.check(peer, Instant::now());
                }
                return Err(error.into());
            }
        };
        request.headers_mut().remove(http::header::AUTHORIZATION);
        let key = match &admitted.subject {
            Some(subject) => Some(format!("caller/{subject}")),
            None => certificate.map(|print| format!("certificate/{print}")),
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

impl Authenticate {
    /// The limit this call's failure would count against, and the peer it
    /// would count for; `None` when failures are not limited, the method
    /// is public (it never fails to authenticate) or the peer is unknown.
    fn failures_of<B>(
        &self,
        request: &http::Request<B>,
        certificate: Option<&str>,
    ) -> Option<(&RateLimiter, Arc<str>)> {
        let failures = self.failures.as_deref()?;
        if self.gate.is_public(request.uri().path()) {
            return None;
        }
        Some((failures, peer_key(request, certificate)?))
    }
}

/// Whom failed authentications count against: the client certificate
/// when there is one (`certificate/<sha256 prefix>`), else the peer's IP
/// address (`peer/<ip>`); `None` when the connection has no address.
fn peer_key<B>(request: &http::Request<B>, certificate: Option<&str>) -> Option<Arc<str>> {
    if let Some(print) = certificate {
        return Some(format!("certificate/{print}").into());
    }
    let extensions = request.extensions();
    let tcp = extensions.get::<TcpConnectInfo>().or_else(|| {
        let tls = extensions.get::<TlsConnectInfo<TcpConnectInfo>>()?;
        Some(tls.get_ref())
    });
    Some(format!("peer/{}", tcp?.remote_addr()?.ip()).into())
}

fn auth_rate_limited(failures: &RateLimiter, peer: &Arc<str>, retry_after: Duration) -> ApiError {
    let (rate, burst) = failures.limits();
    ApiError::RateLimited {
        reason: "AUTH_RATE_LIMITED",
        message: format!(
            "{peer} has failed to authenticate more than {rate} times per second (bursts of {burst}); \
             calls from it without an already verified token are refused for {} ms",
            retry_after.as_millis().max(1)
        ),
        subject: peer.to_string(),
        quota: "failed authentications per second of one peer",
        retry_after,
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
