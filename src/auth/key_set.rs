//! The keys tokens are verified with, as one value the verifier swaps
//! whole when a key source changes: the key files ([`super::reload`]) or
//! the JWKS URL ([`super::remote`]). The set is the union of both sources'
//! keys, and each source replaces only its own part. Each set has a
//! generation, so a token verified with an older set is never taken for
//! one verified with the current set.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use jsonwebtoken::{Algorithm, Validation};

use super::keys::VerifyingKey;

/// The keys of one reading of the sources, with one validation per
/// algorithm some key has.
#[derive(Debug)]
pub struct KeySet {
    pub keys: Vec<VerifyingKey>,
    pub validations: Vec<(Algorithm, Validation)>,
    /// Counts the sets this process has made, from 0.
    pub generation: u64,
}

impl KeySet {
    fn new(keys: Vec<VerifyingKey>, expected: &Expected, generation: u64) -> KeySet {
        let mut validations: Vec<(Algorithm, Validation)> = Vec::new();
        for key in &keys {
            if !validations.iter().any(|(alg, _)| *alg == key.algorithm) {
                validations.push((key.algorithm, expected.validation(key.algorithm)));
            }
        }
        KeySet {
            keys,
            validations,
            generation,
        }
    }

    /// Whether some key is named `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid.as_deref() == Some(kid))
    }
}

/// Where keys come from; each source's keys are replaced on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `--auth-jwks`, `--auth-public-key`, `--auth-hs256-secret-file`.
    Files,
    /// `--auth-jwks-url`.
    Url,
}

/// What every token must carry, whichever key signed it.
#[derive(Debug)]
struct Expected {
    issuer: String,
    audience: String,
    /// Seconds of leeway on `exp` and `nbf`.
    leeway: u64,
}

impl Expected {
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        validation
    }
}

/// The current [`KeySet`] and the keys of each source it was made from.
#[derive(Debug)]
pub struct KeyStore {
    current: RwLock<Arc<KeySet>>,
    /// Held for a whole replacement, so that two sources changing at once
    /// cannot lose either change (or reuse a generation).
    parts: Mutex<Parts>,
    expected: Expected,
}

#[derive(Debug, Default)]
struct Parts {
    files: Vec<VerifyingKey>,
    url: Vec<VerifyingKey>,
}

impl KeyStore {
    /// The store with the keys of the files; tokens must be of `issuer`
    /// for `audience`, with `leeway` seconds on `exp` and `nbf`.
    pub fn new(files: Vec<VerifyingKey>, issuer: &str, audience: &str, leeway: u64) -> KeyStore {
        let expected = Expected {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            leeway,
        };
        let current = KeySet::new(files.clone(), &expected, 0);
        KeyStore {
            current: RwLock::new(Arc::new(current)),
            parts: Mutex::new(Parts { files, url: Vec::new() }),
            expected,
        }
    }

    /// The keys tokens are verified with now.
    pub fn current(&self) -> Arc<KeySet> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Verifies with `keys` for `source` from now on (a new generation);
    /// returns how many keys there are in all.
    pub fn replace(&self, source: Source, keys: Vec<VerifyingKey>) -> usize {
        let mut parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner);
        match source {
            Source::Files => parts.files = keys,
            Source::Url => parts.url = keys,
        }
        let all = parts.files.iter().chain(&parts.url).cloned().collect();
        let set = KeySet::new(all, &self.expected, self.current().generation + 1);
        let count = set.keys.len();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        count
    }
}
