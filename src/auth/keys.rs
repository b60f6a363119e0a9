//! The keys that verify bearer tokens, read from the files the settings
//! name (a JWKS, PEM public keys, an HS256 secret) or parsed from a JWKS
//! fetched from `--auth-jwks-url` ([`super::jwks_url`]).
//!
//! Each key is bound to exactly one algorithm (RS256 for RSA, EdDSA for
//! Ed25519, HS256 for the secret), and a token is only ever checked with a
//! key of the algorithm its header names. That closes the classic confusion
//! attack, where a token says HS256 and is "verified" with an RSA public key
//! used as the HMAC secret.
//!
//! Trap: `Debug` of these types must never print key material; the secret
//! stays inside jsonwebtoken's `DecodingKey`, which we never format.

use std::{fmt, path::Path};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse},
};

use crate::config::AuthSettings;

/// The shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key at least
/// as long as the hash output (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// One verification key.
#[derive(Clone)]
pub struct VerifyingKey {
    /// The key's `kid`; `None` for a PEM key or the shared secret, which are
    /// tried for any token of their algorithm.
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Why the configured keys cannot be used; the server does not start.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: String },
}

/// Every key the settings name, in the order given.
pub fn load(settings: &AuthSettings) -> Result<Vec<VerifyingKey>, KeyError> {
    let mut keys = Vec::new();
    if let Some(path) = &settings.auth_jwks {
        keys.extend(jwks(path)?);
    }
    for path in &settings.auth_public_key {
        keys.push(pem(path)?);
    }
    if let Some(path) = &settings.auth_hs256_secret_file {
        keys.push(VerifyingKey {
            kid: None,
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(&read_secret(path)?).map_err(|e| invalid(path.display(), e))?,
        });
    }
    Ok(keys)
}

/// Reads the HS256 secret in `path` (also used to sign `orders token`s).
pub fn read_secret(path: &Path) -> Result<Vec<u8>, KeyError> {
    let mut secret = read(path)?;
    while secret.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        secret.pop();
    }
    if secret.len() < MIN_SECRET_BYTES {
        return Err(invalid(
            path.display(),
            format!(
                "an HS256 secret must be at least {MIN_SECRET_BYTES} bytes (this one has {}); \
                 make one with `openssl rand -base64 48`",
                secret.len()
            ),
        ));
    }
    Ok(secret)
}

fn jwks(path: &Path) -> Result<Vec<VerifyingKey>, KeyError> {
    parse_jwks(&read(path)?, &path.display().to_string(), Unsupported::Refuse)
}

/// What to do with a JWKS key of an algorithm tokens are not verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// Refuse the whole set: a file is the operator's own, and a key in it
    /// that can never verify anything is a mistake to fix.
    Refuse,
    /// Skip it, saying so: an identity provider's JWKS may also carry keys
    /// for other algorithms (ES256, say), meant for other services.
    Skip,
}

/// The keys of the JWKS `bytes`, read from `source` (a file or the JWKS
/// URL, named in errors).
pub fn parse_jwks(bytes: &[u8], source: &str, unsupported: Unsupported) -> Result<Vec<VerifyingKey>, KeyError> {
    let set: JwkSet =
        serde_json::from_slice(bytes).map_err(|e| invalid(source, format!("not a JWKS ({{\"keys\": [...]}}): {e}")))?;
    let mut keys = Vec::new();
    for (index, jwk) in set.keys.iter().enumerate() {
        if let Some(key) = from_jwk(jwk, &format!("{source}, key {index}"), unsupported)? {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Err(invalid(source, "holds no RS256 or EdDSA signing key"));
    }
    Ok(keys)
}

/// The key for `jwk`, or `None` for an encryption key, which has no
/// business verifying signatures (or one of another algorithm, to skip).
fn from_jwk(jwk: &Jwk, source: &str, unsupported: Unsupported) -> Result<Option<VerifyingKey>, KeyError> {
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        tracing::info!(source, "skipping a JWKS key meant for encryption");
        return Ok(None);
    }
    let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::OctetKeyPair(p), None | Some(KeyAlgorithm::EdDSA))
            if p.curve == EllipticCurve::Ed25519 =>
        {
            Algorithm::EdDSA
        }
        (_, alg) if unsupported == Unsupported::Skip => {
            tracing::info!(
                source,
                ?alg,
                "skipping a JWKS key of an algorithm tokens are not verified with"
            );
            return Ok(None);
        }
        (_, alg) => {
            let problem = format!("unsupported key (alg {alg:?}); only RS256 (RSA) and EdDSA (Ed25519) are accepted");
            return Err(invalid(source, problem));
        }
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(source, e))?;
    Ok(Some(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key,
    }))
}

fn pem(path: &Path) -> Result<VerifyingKey, KeyError> {
    let bytes = read(path)?;
    let (algorithm, key) = match DecodingKey::from_rsa_pem(&bytes) {
        Ok(key) => (Algorithm::RS256, key),
        Err(_) => match DecodingKey::from_ed_pem(&bytes) {
            Ok(key) => (Algorithm::EdDSA, key),
            Err(_) => return Err(invalid(path.display(), "not a PEM RSA or Ed25519 public key")),
        },
    };
    Ok(VerifyingKey {
        kid: None,
        algorithm,
        key,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: impl fmt::Display, problem: impl fmt::Display) -> KeyError {
    KeyError::Invalid {
        path: path.to_string(),
        problem: problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture JWKS (RS256 `rsa-2026`, EdDSA `ed-2026`) and an ES256 key.
    fn jwks_with_an_es256_key() -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auth/jwks.json");
        let mut set: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let es256 = serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "ec-2026",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        });
        set["keys"].as_array_mut().unwrap().push(es256);
        set.to_string().into_bytes()
    }

    #[test]
    fn a_key_of_another_algorithm_refuses_a_file_but_is_skipped_in_a_fetched_jwks() {
        let bytes = jwks_with_an_es256_key();
        let refused = parse_jwks(&bytes, "jwks.json", Unsupported::Refuse).unwrap_err();
        assert!(
            refused.to_string().starts_with("jwks.json, key 2: unsupported key"),
            "{refused}"
        );
        let keys = parse_jwks(&bytes, "https://id.example.com/jwks", Unsupported::Skip).unwrap();
        let kids: Vec<_> = keys.iter().map(|key| key.kid.as_deref().unwrap()).collect();
        assert_eq!(kids, ["rsa-2026", "ed-2026"]);
    }
}
