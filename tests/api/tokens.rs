//! Bearer tokens for the tests, signed with the test-only keys in
//! `tests/fixtures/auth/` (see its README), and the settings of a server
//! that requires them.
//!
//! [`require_tokens`] configures all three kinds of key at once: the JWKS
//! (RS256 `rsa-2026`, EdDSA `ed-2026`), the RSA public key as a PEM file
//! (no `kid`) and an HS256 secret file. [`claims`] are valid for ten
//! minutes unless a test edits them.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use orders::config::Settings;
use serde_json::{Value, json};

pub const ISSUER: &str = "https://id.orders.test/";
pub const AUDIENCE: &str = "orders";
/// The HS256 secret of test servers (written to a file by [`secret_file`]).
pub const HS256_SECRET: &str = "test-only HS256 secret: at least 32 bytes long";
/// Every role, for tokens that may do anything (test setup).
pub const ALL_ROLES: [&str; 5] = ["customer", "warehouse", "catalog-admin", "service", "auditor"];

/// Which key signs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// RS256 with `kid` `rsa-2026`, in the server's JWKS.
    Rsa,
    /// RS256 with the same key and no `kid` (matches the PEM key).
    RsaWithoutKid,
    /// EdDSA with `kid` `ed-2026`, in the server's JWKS.
    Ed25519,
    /// HS256 with the server's shared secret.
    Hs256,
    /// RS256 with a key the server does not know, claiming `kid` `rsa-2026`.
    Untrusted,
}

/// A file of `tests/fixtures/auth/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/auth")
        .join(name)
}

/// A file holding [`HS256_SECRET`], written once per test process.
pub fn secret_file() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("orders-test-hs256-{}", std::process::id()));
        std::fs::write(&path, format!("{HS256_SECRET}\n")).expect("writes the secret file");
        path
    })
    .clone()
}

/// Makes `settings` require tokens signed by any of the test keys.
pub fn require_tokens(settings: &mut Settings) {
    let auth = &mut settings.security.auth;
    auth.auth_jwks = Some(fixture("jwks.json"));
    auth.auth_public_key = vec![fixture("rsa-public.pem")];
    auth.auth_hs256_secret_file = Some(secret_file());
    auth.auth_issuer = Some(ISSUER.to_owned());
    auth.auth_audience = Some(AUDIENCE.to_owned());
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Valid claims for `subject` with `roles`, for ten minutes.
pub fn claims(subject: &str, roles: &[&str]) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "roles": roles,
        "iat": now(),
        "exp": now() + 600,
    })
}

/// `claims` signed by `signer`.
pub fn sign(signer: Signer, claims: &Value) -> String {
    let (algorithm, kid, key) = match signer {
        Signer::Rsa => (Algorithm::RS256, Some("rsa-2026"), rsa_key("rsa-private.pem")),
        Signer::RsaWithoutKid => (Algorithm::RS256, None, rsa_key("rsa-private.pem")),
        Signer::Untrusted => (Algorithm::RS256, Some("rsa-2026"), rsa_key("untrusted-rsa-private.pem")),
        Signer::Ed25519 => {
            let pem = std::fs::read(fixture("ed25519-private.pem")).unwrap();
            (
                Algorithm::EdDSA,
                Some("ed-2026"),
                EncodingKey::from_ed_pem(&pem).unwrap(),
            )
        }
        Signer::Hs256 => (
            Algorithm::HS256,
            None,
            EncodingKey::from_secret(HS256_SECRET.as_bytes()).unwrap(),
        ),
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("the token encodes")
}

/// `claims` signed with the RSA key (`rsa-2026`) but naming the key `kid`.
pub fn sign_naming(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &rsa_key("rsa-private.pem")).expect("the token encodes")
}

/// A JWKS (as JSON text) holding the keys of `jwks.json` named by `kids`.
pub fn jwks_of(kids: &[&str]) -> String {
    let all: Value = serde_json::from_slice(&std::fs::read(fixture("jwks.json")).unwrap()).unwrap();
    let keys: Vec<&Value> = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| kids.contains(&k["kid"].as_str().unwrap()))
        .collect();
    json!({ "keys": keys }).to_string()
}

/// A token for `subject` with `roles`, signed with the RSA key.
pub fn token(subject: &str, roles: &[&str]) -> String {
    sign(Signer::Rsa, &claims(subject, roles))
}

/// A token whose header says `alg: none`, with an empty signature.
pub fn unsigned(claims: &Value) -> String {
    let part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.", part(&json!({"alg": "none", "typ": "JWT"})), part(claims))
}

fn rsa_key(file: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture(file)).unwrap()).unwrap()
}
