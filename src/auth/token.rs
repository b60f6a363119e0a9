//! Verifying a bearer token (a JWT) into the caller's [`Identity`].
//!
//! The checks, in order: the token has the JWT shape; its header names an
//! algorithm this server has a key for (`none` never is); a key of that
//! algorithm (and `kid`, when both have one) verifies the signature; then
//! `exp`, `nbf` (with the configured leeway), `iss`, `aud` and `sub`. Each
//! failure is UNAUTHENTICATED with its own reason and a message that says
//! what to fix, and never quotes the token itself. A token that passed
//! them all is remembered until it expires ([`VerifiedTokens`]), so its
//! later calls skip the signature. The keys are one [`KeySet`], replaced
//! whole when the key files change ([`super::reload`]) or the JWKS URL
//! serves other keys ([`super::remote`]).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde::Deserialize;

use super::{
    key_set::{KeySet, KeyStore, Source},
    keys::{self, KeyError, VerifyingKey},
    policy::Role,
    verified::VerifiedTokens,
};
use crate::{config::AuthSettings, domain::fields::quote, error::ApiError};

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `sub` claim.
    pub subject: String,
    /// The roles of the `roles` claim that this service knows, in
    /// [`Role::ALL`] order; unknown names are ignored.
    pub roles: Vec<Role>,
}

/// Checks tokens against the configured keys, issuer and audience.
#[derive(Debug)]
pub struct TokenVerifier {
    /// The current keys; replaced whole by [`Self::reload`] and
    /// [`Self::replace_fetched`].
    keys: KeyStore,
    issuer: String,
    audience: String,
    /// The leeway on `exp` and `nbf`, in seconds.
    leeway: u64,
    /// Tokens that passed every check, until they expire or the keys change.
    verified: VerifiedTokens,
}

/// Why authentication cannot be set up as configured.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("authentication needs --auth-issuer and --auth-audience: every token's `iss` and `aud` are checked")]
    MissingIssuerOrAudience,
}

/// The claims this service reads; `exp`, `nbf`, `iss` and `aud` are checked
/// by jsonwebtoken from the raw claims.
#[derive(Deserialize)]
struct Claims {
    // Optional here so that a token without one fails as "missing `sub`"
    // (the required-claims check) rather than as malformed JSON.
    sub: Option<String>,
    #[serde(default)]
    roles: Option<Roles>,
    /// Required and checked by jsonwebtoken; read to know how long the
    /// token may stay in [`VerifiedTokens`].
    #[serde(default)]
    exp: u64,
}

/// `roles` as an array of names, or one name.
#[derive(Deserialize)]
#[serde(untagged)]
enum Roles {
    Many(Vec<String>),
    One(String),
}

/// The part of the JWT header needed to pick a key; read before anything
/// is trusted, so that an algorithm we do not accept gets a clear answer.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

impl TokenVerifier {
    /// The verifier the settings describe, or `None` when no key is
    /// configured (authentication off).
    pub fn from_settings(settings: &AuthSettings) -> Result<Option<TokenVerifier>, AuthSetupError> {
        if !settings.is_enabled() {
            return Ok(None);
        }
        let (Some(issuer), Some(audience)) = (&settings.auth_issuer, &settings.auth_audience) else {
            return Err(AuthSetupError::MissingIssuerOrAudience);
        };
        let leeway = settings.auth_leeway.as_secs();
        Ok(Some(TokenVerifier {
            keys: KeyStore::new(keys::load(settings)?, issuer, audience, leeway),
            issuer: issuer.clone(),
            audience: audience.clone(),
            leeway,
            verified: VerifiedTokens::default(),
        }))
    }

    /// How many keys tokens are verified with.
    pub fn key_count(&self) -> usize {
        self.keys.current().keys.len()
    }

    /// Reads the key files again and verifies with what they hold from now
    /// on (tokens verified with the old keys are checked again); returns
    /// how many keys there are. On an error the current keys stay.
    pub fn reload(&self, settings: &AuthSettings) -> Result<usize, KeyError> {
        Ok(self.replace(Source::Files, keys::load(settings)?))
    }

    /// Verifies with `keys`, fetched from the JWKS URL, beside the files'
    /// from now on; returns how many keys there are in all.
    pub fn replace_fetched(&self, keys: Vec<VerifyingKey>) -> usize {
        self.replace(Source::Url, keys)
    }

    fn replace(&self, source: Source, keys: Vec<VerifyingKey>) -> usize {
        let count = self.keys.replace(source, keys);
        self.verified.clear();
        count
    }

    /// Whether `token`'s header names a `kid` that no current key has (a
    /// key the JWKS URL may have gained since it was last fetched).
    pub fn names_unknown_kid(&self, token: &str) -> bool {
        header(token).is_ok_and(|header| header.kid.is_some_and(|kid| !self.keys.current().has_kid(&kid)))
    }

    /// Verifies `token` (or finds it verified before) and returns who it
    /// names.
    pub fn verify(&self, token: &str) -> Result<Identity, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let keys = self.keys.current();
        if let Some(identity) = self.verified.get(token, now, keys.generation) {
            return Ok(identity);
        }
        let (identity, exp) = self.verify_signed(&keys, token)?;
        let valid_until = exp.saturating_add(self.leeway);
        self.verified
            .insert(token, identity.clone(), valid_until, keys.generation, now);
        Ok(identity)
    }

    /// Whether `token` was verified before (with the current keys) and is
    /// still valid, so that [`Self::verify`] will not check its signature.
    pub fn knows(&self, token: &str) -> bool {
        let now = jsonwebtoken::get_current_timestamp();
        self.verified.get(token, now, self.keys.current().generation).is_some()
    }

    /// Every check of the module's doc; the identity and the token's `exp`.
    fn verify_signed(&self, keys: &KeySet, token: &str) -> Result<(Identity, u64), ApiError> {
        let header = header(token)?;
        let (algorithm, validation) = validation_for(keys, &header.alg)?;
        let candidates = keys.keys.iter().filter(|key| {
            key.algorithm == algorithm && (key.kid.is_none() || header.kid.is_none() || key.kid == header.kid)
        });
        let mut tried = false;
        for key in candidates {
            tried = true;
            match jsonwebtoken::decode::<Claims>(token, &key.key, validation) {
                Ok(data) => {
                    let exp = data.claims.exp;
                    return Ok((identity(data.claims)?, exp));
                }
                Err(error) if *error.kind() == ErrorKind::InvalidSignature => continue,
                Err(error) => return Err(self.rejection(error.into_kind())),
            }
        }
        Err(match (tried, header.kid) {
            (false, Some(kid)) => unauthenticated(
                "TOKEN_KEY_UNKNOWN",
                format!("the token names key {}, which this server does not trust", quote(&kid)),
            ),
            _ => self.rejection(ErrorKind::InvalidSignature),
        })
    }

    /// The caller's error for a token that jsonwebtoken refused.
    fn rejection(&self, kind: ErrorKind) -> ApiError {
        let (reason, message) = match kind {
            ErrorKind::InvalidSignature => (
                "TOKEN_SIGNATURE_INVALID",
                "the token's signature does not verify with any key this server trusts".to_owned(),
            ),
            ErrorKind::ExpiredSignature => ("TOKEN_EXPIRED", "the token has expired; get a new one".to_owned()),
            ErrorKind::ImmatureSignature => (
                "TOKEN_NOT_YET_VALID",
                "the token is not valid yet: its `nbf` (not before) is in the future".to_owned(),
            ),
            ErrorKind::InvalidIssuer => (
                "TOKEN_ISSUER_INVALID",
                format!(
                    "the token's issuer (`iss`) is not {}, the one this server trusts",
                    quote(&self.issuer)
                ),
            ),
            ErrorKind::InvalidAudience => (
                "TOKEN_AUDIENCE_INVALID",
                format!(
                    "the token is not meant for this service: its audience (`aud`) does not include {}",
                    quote(&self.audience)
                ),
            ),
            ErrorKind::MissingRequiredClaim(claim) => {
                ("TOKEN_CLAIMS_INVALID", format!("the token lacks the `{claim}` claim"))
            }
            ErrorKind::InvalidClaimFormat(claim) => (
                "TOKEN_CLAIMS_INVALID",
                format!("the token's `{claim}` claim has the wrong type"),
            ),
            ErrorKind::Json(_) => (
                "TOKEN_CLAIMS_INVALID",
                "the token's claims are not of the expected form (`roles` must be a list of names)".to_owned(),
            ),
            _ => return malformed(),
        };
        unauthenticated(reason, message)
    }
}

/// The algorithm `alg` names and its validation, if some key has it.
fn validation_for<'a>(keys: &'a KeySet, alg: &str) -> Result<(Algorithm, &'a Validation), ApiError> {
    // `none`, unknown names and algorithms without a key all end here.
    let algorithm = alg.parse::<Algorithm>().ok();
    let found = keys.validations.iter().find(|(known, _)| Some(*known) == algorithm);
    found
        .map(|(algorithm, validation)| (*algorithm, validation))
        .ok_or_else(|| {
            let accepted: Vec<String> = keys.validations.iter().map(|(a, _)| format!("{a:?}")).collect();
            unauthenticated(
                "TOKEN_ALGORITHM_REJECTED",
                format!(
                    "tokens signed with {} are not accepted; this server accepts {}",
                    quote(alg),
                    accepted.join(", ")
                ),
            )
        })
}

fn header(token: &str) -> Result<Header, ApiError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let json = URL_SAFE_NO_PAD.decode(header).map_err(|_| malformed())?;
    serde_json::from_slice(&json).map_err(|_| malformed())
}

fn identity(claims: Claims) -> Result<Identity, ApiError> {
    let subject = claims.sub.unwrap_or_default();
    if subject.is_empty() {
        return Err(unauthenticated(
            "TOKEN_CLAIMS_INVALID",
            "the token's `sub` claim is empty",
        ));
    }
    let names = match claims.roles {
        None => Vec::new(),
        Some(Roles::One(name)) => vec![name],
        Some(Roles::Many(names)) => names,
    };
    let roles = Role::ALL
        .into_iter()
        .filter(|role| names.iter().any(|name| name == role.name()))
        .collect();
    Ok(Identity { subject, roles })
}

fn malformed() -> ApiError {
    unauthenticated(
        "TOKEN_MALFORMED",
        "the bearer token is not a well-formed JWT (three base64url parts separated by dots)",
    )
}

pub(crate) fn unauthenticated(reason: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Unauthenticated {
        reason,
        message: message.into(),
    }
}
