//! Tokens already verified, so that a caller sending the same token with
//! every call (as every client does until it expires) pays for its
//! signature once: an RS256 verification costs tens of microseconds, an
//! HS256 one a few, a lookup here well under one.
//!
//! An entry is the exact token text and the [`Identity`] it verified to,
//! valid until the token's `exp` plus the leeway, the same moment the full
//! check would start refusing it. Only tokens that passed every check are
//! kept, so a forged or altered token always takes the full path (and
//! fails there). The cache is bounded: a full shard first drops its
//! expired entries, and is emptied if that frees nothing, so memory stays
//! small whatever callers send. When the keys change, every entry made
//! with the old ones stops counting (each entry names its key set's
//! generation) and the cache is emptied.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Mutex, PoisonError},
};

use super::token::Identity;

const SHARDS: usize = 8;
const ENTRIES_PER_SHARD: usize = 1024;

/// The verified tokens, by their text.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    hasher: RandomState,
    shards: [Mutex<HashMap<Box<str>, Entry>>; SHARDS],
}

#[derive(Debug, Clone)]
struct Entry {
    identity: Identity,
    /// Unix seconds after which the token is refused.
    valid_until: u64,
    /// The key set it was verified with.
    generation: u64,
}

impl VerifiedTokens {
    /// Who `token` was verified to be with the key set `generation`, if it
    /// was and is still valid at `now` (Unix seconds).
    pub fn get(&self, token: &str, now: u64, generation: u64) -> Option<Identity> {
        let shard = self.shard(token).lock().unwrap_or_else(PoisonError::into_inner);
        let entry = shard.get(token)?;
        (now <= entry.valid_until && entry.generation == generation).then(|| entry.identity.clone())
    }

    /// Forgets every token (the keys changed).
    pub fn clear(&self) {
        for shard in &self.shards {
            shard.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
    }

    /// Remembers that `token` verified to `identity` with the key set
    /// `generation`, valid until `valid_until` (Unix seconds).
    pub fn insert(&self, token: &str, identity: Identity, valid_until: u64, generation: u64, now: u64) {
        let mut shard = self.shard(token).lock().unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= ENTRIES_PER_SHARD {
            shard.retain(|_, entry| now <= entry.valid_until);
            if shard.len() >= ENTRIES_PER_SHARD {
                shard.clear();
            }
        }
        let entry = Entry {
            identity,
            valid_until,
            generation,
        };
        shard.insert(token.into(), entry);
    }

    fn shard(&self, token: &str) -> &Mutex<HashMap<Box<str>, Entry>> {
        &self.shards[self.hasher.hash_one(token) as usize % SHARDS]
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::Role;

    fn alice() -> Identity {
        Identity {
            subject: "alice".into(),
            roles: vec![Role::Customer],
        }
    }

    #[test]
    fn a_verified_token_is_known_until_it_expires_and_no_other_text_is() {
        let tokens = VerifiedTokens::default();
        tokens.insert("a.b.c", alice(), 1_000, 0, 900);
        assert_eq!(tokens.get("a.b.c", 1_000, 0), Some(alice()));
        assert_eq!(tokens.get("a.b.c", 1_001, 0), None, "expired");
        assert_eq!(tokens.get("a.b.d", 950, 0), None, "one character off");
        assert_eq!(tokens.get("a.b.c", 950, 1), None, "verified with keys since replaced");
        tokens.clear();
        assert_eq!(tokens.get("a.b.c", 950, 0), None, "forgotten");
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first_and_never_grows_past_its_bound() {
        let tokens = VerifiedTokens::default();
        for n in 0..SHARDS * ENTRIES_PER_SHARD * 3 {
            // Half of them already expired at the time of insertion.
            let valid_until = if n % 2 == 0 { 10 } else { 1_000 };
            tokens.insert(&format!("token-{n}"), alice(), valid_until, 0, 100);
            assert!(tokens.len() <= SHARDS * ENTRIES_PER_SHARD);
        }
        let last = format!("token-{}", SHARDS * ENTRIES_PER_SHARD * 3 - 1);
        assert_eq!(tokens.get(&last, 100, 0), Some(alice()));
    }
}
