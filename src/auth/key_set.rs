//! The keys tokens are verified with, as one value the verifier swaps
//! whole when the key files change ([`super::reload`]): each set has a
//! generation, so a token verified with an older set is never taken for
//! one verified with the current set.

use jsonwebtoken::{Algorithm, Validation};

use super::keys::{self, KeyError, VerifyingKey};
use crate::config::AuthSettings;

/// The keys of one reading of the files, with one validation per
/// algorithm some key has.
#[derive(Debug)]
pub struct KeySet {
    pub keys: Vec<VerifyingKey>,
    pub validations: Vec<(Algorithm, Validation)>,
    /// Counts the sets this process has read, from 0.
    pub generation: u64,
}

impl KeySet {
    /// Reads every key the settings name; tokens must be of `issuer` for
    /// `audience`.
    pub fn load(settings: &AuthSettings, issuer: &str, audience: &str, generation: u64) -> Result<KeySet, KeyError> {
        let keys = keys::load(settings)?;
        let mut validations: Vec<(Algorithm, Validation)> = Vec::new();
        for key in &keys {
            if !validations.iter().any(|(alg, _)| *alg == key.algorithm) {
                validations.push((key.algorithm, validation(key.algorithm, issuer, audience, settings)));
            }
        }
        Ok(KeySet {
            keys,
            validations,
            generation,
        })
    }
}

fn validation(algorithm: Algorithm, issuer: &str, audience: &str, settings: &AuthSettings) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = settings.auth_leeway.as_secs();
    validation
}
