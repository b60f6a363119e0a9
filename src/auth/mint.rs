//! `orders token`: development tokens signed with the HS256 secret, so that
//! grpcurl, test clients and `orders-load` can call a server that requires
//! tokens.
//!
//! Production tokens come from the identity provider, signed with its
//! private key (RS256 or EdDSA); this server only ever holds public keys
//! for those, and so cannot mint them.

use std::{path::Path, time::Duration};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::{keys, policy::Role};
use crate::config::{AuthSettings, TokenArgs};

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    roles: &'a [String],
    iat: u64,
    nbf: u64,
    exp: u64,
}

/// The secret, issuer and audience tokens are minted for.
pub struct Minter {
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl Minter {
    /// A minter for the HS256 secret, issuer and audience in `settings`.
    pub fn from_settings(settings: &AuthSettings) -> Result<Minter, String> {
        let secret_file = (settings.auth_hs256_secret_file.as_ref())
            .ok_or("minting tokens needs --auth-hs256-secret-file (ORDERS_AUTH_HS256_SECRET_FILE)")?;
        let (Some(issuer), Some(audience)) = (&settings.auth_issuer, &settings.auth_audience) else {
            return Err("minting tokens needs --auth-issuer and --auth-audience, as the server does".to_owned());
        };
        Minter::new(secret_file, issuer, audience)
    }

    /// A minter for the HS256 secret in `secret_file`.
    pub fn new(secret_file: &Path, issuer: &str, audience: &str) -> Result<Minter, String> {
        let secret = keys::read_secret(secret_file).map_err(|e| e.to_string())?;
        Ok(Minter {
            key: EncodingKey::from_secret(&secret).map_err(|e| e.to_string())?,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// A token for `subject` with `roles` (names), valid from now for `ttl`.
    pub fn mint(&self, subject: &str, roles: &[String], ttl: Duration) -> Result<String, String> {
        if let Some(unknown) = roles.iter().find(|r| Role::from_name(r).is_none()) {
            let known: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            return Err(format!("unknown role {unknown:?}; the roles are {}", known.join(", ")));
        }
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: subject,
            roles,
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).map_err(|e| e.to_string())
    }
}

/// `orders token`: the token `args` asks for.
pub fn mint(settings: &AuthSettings, args: &TokenArgs) -> Result<String, String> {
    Minter::from_settings(settings)?.mint(&args.subject, &args.roles, args.ttl)
}
