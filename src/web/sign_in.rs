//! How the pages sign people in, which depends on the server's
//! authentication: not at all when it is off, with a development token
//! that this server mints when it holds the development HS256 secret, and
//! with a token the person brings otherwise. `GET /config.json` tells the
//! pages which; `POST /dev/token` mints, and only in the development case.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{
    auth::{mint::Minter, policy::Role},
    config::AuthSettings,
    domain::fields,
};

/// How long a development token lasts: a working session.
const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// What the pages must do to call the API.
pub enum SignIn {
    /// Authentication is off: the pages name the customer in requests.
    Off,
    /// The server holds the development secret and mints tokens.
    Development(Minter),
    /// Tokens come from the identity provider; a person pastes one.
    Required,
}

/// The roles a development token may have: the pages are for customers
/// and the warehouse, and a page must not hand out more.
const PAGE_ROLES: [Role; 2] = [Role::Customer, Role::Warehouse];

#[derive(Deserialize)]
pub struct TokenRequest {
    subject: String,
    role: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    token: String,
    expires_in_seconds: u64,
}

impl SignIn {
    /// The way in that `settings` give, when `authenticated` (a key is
    /// configured); minting also needs the issuer and audience, which an
    /// authenticated server always has.
    pub fn from_settings(settings: &AuthSettings, authenticated: bool) -> SignIn {
        match (authenticated, Minter::from_settings(settings)) {
            (false, _) => SignIn::Off,
            (true, Ok(minter)) => SignIn::Development(minter),
            (true, Err(_)) => SignIn::Required,
        }
    }

    /// The name the pages read in `/config.json`.
    pub fn mode(&self) -> &'static str {
        match self {
            SignIn::Off => "off",
            SignIn::Development(_) => "development",
            SignIn::Required => "required",
        }
    }

    /// A development token for `request`; `None` when this server mints
    /// none, else the token or why it was refused (for people).
    pub fn mint(&self, request: &TokenRequest) -> Option<Result<TokenResponse, String>> {
        let SignIn::Development(minter) = self else {
            return None;
        };
        Some(mint_for_page(minter, request))
    }
}

fn mint_for_page(minter: &Minter, request: &TokenRequest) -> Result<TokenResponse, String> {
    let role = Role::from_name(&request.role)
        .filter(|role| PAGE_ROLES.contains(role))
        .ok_or_else(|| format!("role {:?} cannot sign in here: use customer or warehouse", request.role))?;
    // A customer's subject is its customer id, checked as requests check it.
    let subject = fields::customer_id(&request.subject).map_err(|why| format!("subject: {why}"))?;
    let token = minter.mint(&subject, &[role.name().to_owned()], TOKEN_TTL)?;
    Ok(TokenResponse {
        token,
        expires_in_seconds: TOKEN_TTL.as_secs(),
    })
}
