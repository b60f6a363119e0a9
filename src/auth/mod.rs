//! Who is calling, and what they may do.
//!
//! * [`keys`]: the verification keys, read from the configured files;
//! * [`jwks_url`] and [`remote`]: keys fetched from `--auth-jwks-url`, kept
//!   fresh in the background and fetched again for an unknown `kid`;
//! * [`token`]: a bearer token (JWT) verified into an [`Identity`], with
//!   the current [`key_set`] and the tokens already [`verified`];
//! * [`reload`]: the key files read again when they change, or on SIGHUP;
//! * [`policy`]: the roles and the access table (role × method);
//! * [`caller`]: the [`Caller`] a handler sees;
//! * [`mint`]: development tokens for `orders token`.
//!
//! [`Gate::admit`] ties them together for one call; the auth layer
//! ([`crate::middleware::auth`]) runs it before anything else touches the
//! request. Method-level rules are decided there, from the path alone, so
//! a caller without the right role learns nothing about the request's
//! validity; per-customer rules need the request's content and are checked
//! by the handlers ([`Caller::act_for`], [`Caller::may_see`]).

pub mod caller;
pub mod jwks_url;
pub mod key_set;
pub mod keys;
pub mod mint;
pub mod policy;
pub mod reload;
pub mod remote;
pub mod token;
pub mod verified;

use std::sync::Arc;

pub use caller::Caller;
use http::HeaderMap;
use jwks_url::FetchError;
use policy::{Access, best_access, roles_allowed};
use remote::RemoteKeys;
pub use token::{Identity, TokenVerifier};
use tokio::sync::watch;

use crate::{config::AuthSettings, error::ApiError, proto::Method};

/// Decides, for each call, whether it may proceed and as whom.
#[derive(Debug)]
pub struct Gate {
    /// `None`: authentication is off and every call is [`Caller::anonymous`].
    verifier: Option<TokenVerifier>,
    /// The JWKS URL, when keys are also fetched.
    remote: Option<RemoteKeys>,
    public_health: bool,
    public_reflection: bool,
}

/// What the gate let through.
#[derive(Debug, Default)]
pub struct Admitted {
    /// The caller, for calls to the API's own methods.
    pub caller: Option<Arc<Caller>>,
    /// The token's subject, when the call carried a verified token.
    pub subject: Option<String>,
}

impl Gate {
    pub fn new(verifier: Option<TokenVerifier>, remote: Option<RemoteKeys>, settings: &AuthSettings) -> Gate {
        Gate {
            verifier,
            remote,
            public_health: settings.auth_public_health,
            public_reflection: settings.auth_public_reflection,
        }
    }

    /// Admits a call to `path` with request `headers`, or refuses it with
    /// UNAUTHENTICATED (no valid token) or PERMISSION_DENIED (no role that
    /// may call this method).
    pub fn admit(&self, path: &str, headers: &HeaderMap) -> Result<Admitted, ApiError> {
        let Some(verifier) = &self.verifier else {
            return Ok(Admitted {
                caller: Some(Arc::new(Caller::anonymous())),
                subject: None,
            });
        };
        if self.is_public(path) {
            return Ok(Admitted::default());
        }
        let identity = verifier.verify(bearer_token(headers)?)?;
        let caller = match Method::from_path(path) {
            Some(method) => Some(Arc::new(authorize(&identity, method)?)),
            // Health and reflection (when not public) and unknown paths need
            // only a valid token; the router answers UNIMPLEMENTED for the latter.
            None => None,
        };
        Ok(Admitted {
            caller,
            subject: Some(identity.subject),
        })
    }

    /// Reads the key files again (see [`reload`]); `None` when
    /// authentication is off.
    pub fn reload_keys(&self, settings: &AuthSettings) -> Option<Result<usize, keys::KeyError>> {
        self.verifier.as_ref().map(|verifier| verifier.reload(settings))
    }

    /// Fetches the keys of the JWKS URL at start; returns when they are due
    /// again, or `None` without a URL.
    pub async fn fetch_remote_keys(&self) -> Result<Option<std::time::Duration>, FetchError> {
        let (Some(verifier), Some(remote)) = (&self.verifier, &self.remote) else {
            return Ok(None);
        };
        remote.fetch_at_start(verifier).await.map(Some)
    }

    /// Whether the JWKS URL answered its last fetch, as it changes; `None`
    /// without a URL.
    pub fn key_source_status(&self) -> Option<watch::Receiver<bool>> {
        self.remote.as_ref().map(RemoteKeys::status)
    }

    /// Whether this call's token names a `kid` no key has while the JWKS
    /// URL may have gained it since: then [`Self::refetch_keys`] first.
    pub fn wants_refetch(&self, path: &str, headers: &HeaderMap) -> bool {
        let (Some(verifier), Some(_)) = (&self.verifier, &self.remote) else {
            return false;
        };
        !self.is_public(path)
            && bearer_token(headers).is_ok_and(|token| !verifier.knows(token) && verifier.names_unknown_kid(token))
    }

    /// Fetches the JWKS URL for a token naming an unknown `kid`, at most
    /// once per interval ([`RemoteKeys::refetch_for_unknown_kid`]).
    pub async fn refetch_keys(&self) {
        if let (Some(verifier), Some(remote)) = (&self.verifier, &self.remote) {
            remote.refetch_for_unknown_kid(verifier).await;
        }
    }

    /// Whether [`Self::admit`] decides this call without checking a
    /// signature: authentication off, a public method, or a bearer token
    /// verified before and still valid. A peer past its limit of failed
    /// authentications gets only these calls through.
    pub fn decides_without_signature(&self, path: &str, headers: &HeaderMap) -> bool {
        let Some(verifier) = &self.verifier else { return true };
        self.is_public(path) || bearer_token(headers).is_ok_and(|token| verifier.knows(token))
    }

    /// Whether `path` answers without a token (health, reflection, as
    /// configured).
    pub fn is_public(&self, path: &str) -> bool {
        (self.public_health && path.starts_with("/grpc.health.v1.Health/"))
            || (self.public_reflection && path.starts_with("/grpc.reflection."))
    }
}

/// The caller `identity` is for `method`, or PERMISSION_DENIED.
fn authorize(identity: &Identity, method: Method) -> Result<Caller, ApiError> {
    let (access, role) = best_access(&identity.roles, method);
    if access == Access::Denied {
        let needed: Vec<&str> = roles_allowed(method).into_iter().map(|r| r.name()).collect();
        let granted: Vec<&str> = identity.roles.iter().map(|r| r.name()).collect();
        let granted = if granted.is_empty() {
            "no role of this service".to_owned()
        } else {
            format!("only {}", granted.join(", "))
        };
        return Err(ApiError::PermissionDenied {
            reason: "ROLE_NOT_ALLOWED",
            message: format!(
                "{} needs the role {}; the token grants {granted}",
                method.path().trim_start_matches('/'),
                needed.join(" or ")
            ),
        });
    }
    Ok(Caller {
        subject: identity.subject.clone(),
        role,
        access,
    })
}

/// The token of `authorization: Bearer <token>` (the scheme is
/// case-insensitive, RFC 7235).
fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Err(token::unauthenticated(
            "TOKEN_MISSING",
            "this call needs a bearer token: send the metadata `authorization: Bearer <token>`",
        ));
    };
    let value = value.to_str().unwrap_or_default();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(token::unauthenticated(
            "TOKEN_MALFORMED",
            "the `authorization` metadata must be `Bearer <token>`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{policy::Role, *};

    fn identity(roles: &[Role]) -> Identity {
        Identity {
            subject: "alice".into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn a_role_that_may_not_call_the_method_is_told_which_one_may() {
        let error = authorize(&identity(&[Role::Customer]), Method::ShipOrder).unwrap_err();
        assert_eq!(
            error.to_string(),
            "orders.v1.OrderService/ShipOrder needs the role warehouse; the token grants only customer"
        );
        let error = authorize(&identity(&[]), Method::GetProduct).unwrap_err();
        assert!(
            error.to_string().ends_with("the token grants no role of this service"),
            "{error}"
        );
    }

    #[test]
    fn the_granting_role_and_its_reach_are_kept() {
        let caller = authorize(&identity(&[Role::Customer]), Method::CancelOrder).unwrap();
        assert_eq!((caller.role, caller.access), (Some(Role::Customer), Access::Own));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_metadata() {
        let mut headers = HeaderMap::new();
        assert!(bearer_token(&headers).is_err());
        headers.insert("authorization", "bearer abc.def.ghi".parse().unwrap());
        assert_eq!(bearer_token(&headers).unwrap(), "abc.def.ghi");
        headers.insert("authorization", "Basic YWxpY2U6c2VjcmV0".parse().unwrap());
        assert!(matches!(
            bearer_token(&headers),
            Err(ApiError::Unauthenticated {
                reason: "TOKEN_MALFORMED",
                ..
            })
        ));
    }
}
