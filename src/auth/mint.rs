//! `orders token`: development tokens signed with the HS256 secret, so that
//! grpcurl and test clients can call a server that requires tokens.
//!
//! Production tokens come from the identity provider, signed with its
//! private key (RS256 or EdDSA); this server only ever holds public keys
//! for those, and so cannot mint them.

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

/// A token for `args`, valid from now for `args.ttl`.
pub fn mint(settings: &AuthSettings, args: &TokenArgs) -> Result<String, String> {
    let secret_file = (settings.auth_hs256_secret_file.as_ref())
        .ok_or("`orders token` signs with --auth-hs256-secret-file (ORDERS_AUTH_HS256_SECRET_FILE); none is set")?;
    let (Some(iss), Some(aud)) = (&settings.auth_issuer, &settings.auth_audience) else {
        return Err("`orders token` needs --auth-issuer and --auth-audience, as the server does".to_owned());
    };
    if let Some(unknown) = args.roles.iter().find(|r| Role::from_name(r).is_none()) {
        let known: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        return Err(format!("unknown role {unknown:?}; the roles are {}", known.join(", ")));
    }
    let secret = keys::read_secret(secret_file).map_err(|e| e.to_string())?;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        iss,
        aud,
        sub: &args.subject,
        roles: &args.roles,
        iat: now,
        nbf: now,
        exp: now + args.ttl.as_secs(),
    };
    let key = EncodingKey::from_secret(&secret).map_err(|e| e.to_string())?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|e| e.to_string())
}
