//! Pagination (AIP-158): page sizes and opaque, signed page tokens.
//!
//! A token is `base64url(version ‖ cursor ‖ tag)`, where the cursor is the
//! position after the last item returned and the tag is an HMAC-SHA256 over
//! the version, the listing the token was issued for (including its
//! customer) and the cursor. So a token cannot be forged or edited, and a
//! token issued for one customer's history is refused for another's. The
//! key lives in the database (`server_secrets`), shared by every instance and
//! kept across restarts.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The page size used when the request says 0.
pub const DEFAULT_PAGE_SIZE: i64 = 20;
/// Larger page sizes are lowered to this.
pub const MAX_PAGE_SIZE: i64 = 100;

const TOKEN_VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const MAX_TOKEN_LEN: usize = 512;
const INVALID_TOKEN: &str = "is not a page token issued for this request; start again without one";

/// Interprets `page_size`: 0 → default, above the maximum → the maximum.
pub fn page_size(value: i32) -> Result<i64, String> {
    match i64::from(value) {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n < 0 => Err(format!("must not be negative (got {n})")),
        n => Ok(n.min(MAX_PAGE_SIZE)),
    }
}

/// Cuts the `page_size + 1` rows fetched for a page down to the page and
/// issues its `next_page_token` with `token_after` (empty on the last page).
/// The extra row only tells that another page exists, so the last page never
/// hands out a token that leads to an empty page.
pub fn finish_page<T>(mut rows: Vec<T>, page_size: i64, token_after: impl FnOnce(&T) -> String) -> (Vec<T>, String) {
    let more = rows.len() as i64 > page_size;
    rows.truncate(page_size as usize);
    let next_page_token = match rows.last() {
        Some(last) if more => token_after(last),
        _ => String::new(),
    };
    (rows, next_page_token)
}

/// The listing a token belongs to; part of what the tag signs.
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    Products {
        show_archived: bool,
    },
    OrderHistory {
        customer_id: &'a str,
    },
    /// A search's results, for the query as typed (trimmed).
    Search {
        query: &'a str,
        show_archived: bool,
    },
    /// The audit trail, for one filter (as recorded with each reading).
    AuditEvents {
        filter: &'a serde_json::Value,
    },
    /// ListOrders: the orders in one state (the stored spelling).
    OrdersInState {
        state: &'a str,
    },
}

/// The position after the last order of a history page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    pub create_time_micros: i64,
    pub order_id: Uuid,
}

/// The position after the last product of a catalog page (SKUs are unique).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductCursor {
    pub sku: String,
}

/// The position after the last result of a search page: its score, then
/// its id (results are ordered by both, descending).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchCursor {
    pub score: f32,
    pub product_id: Uuid,
}

/// The position after the last event of an audit trail page (newest
/// first, by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    pub id: i64,
}

/// A position in a listing that can be written into a token.
pub trait Cursor: Sized {
    fn to_bytes(&self) -> Vec<u8>;
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

impl Cursor for OrderCursor {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.create_time_micros.to_be_bytes().to_vec();
        bytes.extend_from_slice(self.order_id.as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (time, id) = bytes.split_first_chunk::<8>()?;
        Some(OrderCursor {
            create_time_micros: i64::from_be_bytes(*time),
            order_id: Uuid::from_slice(id).ok()?,
        })
    }
}

impl Cursor for ProductCursor {
    fn to_bytes(&self) -> Vec<u8> {
        self.sku.as_bytes().to_vec()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let sku = String::from_utf8(bytes.to_vec()).ok()?;
        Some(ProductCursor { sku })
    }
}

impl Cursor for SearchCursor {
    fn to_bytes(&self) -> Vec<u8> {
        // The exact bits: the database compares with the score it computes.
        let mut bytes = self.score.to_bits().to_be_bytes().to_vec();
        bytes.extend_from_slice(self.product_id.as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (score, id) = bytes.split_first_chunk::<4>()?;
        Some(SearchCursor {
            score: f32::from_bits(u32::from_be_bytes(*score)),
            product_id: Uuid::from_slice(id).ok()?,
        })
    }
}

impl Cursor for AuditCursor {
    fn to_bytes(&self) -> Vec<u8> {
        self.id.to_be_bytes().to_vec()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let id = bytes.try_into().ok().map(i64::from_be_bytes)?;
        Some(AuditCursor { id })
    }
}

/// The secret that signs page tokens.
#[derive(Clone)]
pub struct PageTokenKey(Vec<u8>);

impl std::fmt::Debug for PageTokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokenKey(..)") // never print the secret
    }
}

impl PageTokenKey {
    /// Wraps a key of at least 32 bytes.
    pub fn new(key: Vec<u8>) -> Result<Self, String> {
        if key.len() < 32 {
            return Err(format!("a page token key needs at least 32 bytes (got {})", key.len()));
        }
        Ok(PageTokenKey(key))
    }

    /// Issues the token for the page after `cursor` in `listing`.
    pub fn seal(&self, listing: Listing<'_>, cursor: &impl Cursor) -> String {
        let mut token = vec![TOKEN_VERSION];
        token.extend(cursor.to_bytes());
        let tag = self.tag(listing, &token);
        token.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(token)
    }

    /// Reads a token back: `Ok(None)` for an empty token (the first page),
    /// an error description for anything not issued by us for `listing`.
    pub fn open<C: Cursor>(&self, listing: Listing<'_>, token: &str) -> Result<Option<C>, String> {
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || INVALID_TOKEN.to_owned();
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        // An empty cursor is sealable (version ‖ tag), so it must open too.
        if bytes.len() < 1 + TAG_LEN || bytes[0] != TOKEN_VERSION {
            return Err(invalid());
        }
        let (signed, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        self.mac(listing, signed)
            .verify_truncated_left(tag)
            .map_err(|_| invalid())?;
        C::from_bytes(&signed[1..]).map(Some).ok_or_else(invalid)
    }

    fn tag(&self, listing: Listing<'_>, signed: &[u8]) -> [u8; 32] {
        self.mac(listing, signed).finalize().into_bytes().into()
    }

    fn mac(&self, listing: Listing<'_>, signed: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        match listing {
            // Tokens issued before archiving existed stay valid.
            Listing::Products { show_archived: false } => mac.update(b"products\0"),
            Listing::Products { show_archived: true } => mac.update(b"products+archived\0"),
            Listing::OrderHistory { customer_id } => {
                mac.update(b"order-history\0");
                update_with_text(&mut mac, customer_id);
            }
            Listing::OrdersInState { state } => {
                mac.update(b"orders-in-state\0");
                update_with_text(&mut mac, state);
            }
            Listing::Search { query, show_archived } => {
                mac.update(if show_archived {
                    &b"search+archived\0"[..]
                } else {
                    &b"search\0"[..]
                });
                update_with_text(&mut mac, query);
            }
            Listing::AuditEvents { filter } => {
                mac.update(b"audit-events\0");
                update_with_text(&mut mac, &filter.to_string());
            }
        }
        mac.update(signed);
        mac
    }
}

/// Length first, so that no two texts feed the same bytes.
fn update_with_text(mac: &mut Hmac<Sha256>, text: &str) {
    mac.update(&(text.len() as u64).to_be_bytes());
    mac.update(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PageTokenKey {
        PageTokenKey::new(vec![7; 32]).unwrap()
    }

    fn cursor() -> OrderCursor {
        OrderCursor {
            create_time_micros: 1_700_000_000_000_000,
            order_id: Uuid::new_v4(),
        }
    }

    const ALICE: Listing<'static> = Listing::OrderHistory { customer_id: "alice" };

    #[test]
    fn a_token_round_trips_for_its_own_listing() {
        let c = cursor();
        let token = key().seal(ALICE, &c);
        assert_eq!(key().open::<OrderCursor>(ALICE, &token).unwrap(), Some(c));
        assert_eq!(key().open::<OrderCursor>(ALICE, "").unwrap(), None);
    }

    #[test]
    fn a_token_is_refused_for_another_customer_or_key() {
        let token = key().seal(ALICE, &cursor());
        let bob = Listing::OrderHistory { customer_id: "bob" };
        assert!(key().open::<OrderCursor>(bob, &token).is_err());
        let other_key = PageTokenKey::new(vec![8; 32]).unwrap();
        assert!(other_key.open::<OrderCursor>(ALICE, &token).is_err());
        assert!(
            key()
                .open::<ProductCursor>(Listing::Products { show_archived: false }, &token)
                .is_err()
        );
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let token = key().seal(ALICE, &cursor());
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut forged = bytes.clone();
            forged[i / 8] ^= 1 << (i % 8);
            let forged = URL_SAFE_NO_PAD.encode(forged);
            assert!(key().open::<OrderCursor>(ALICE, &forged).is_err(), "bit {i}");
        }
    }

    #[test]
    fn garbage_and_truncated_tokens_are_refused() {
        let token = key().seal(ALICE, &cursor());
        for bad in ["x", "!!!!", &token[..token.len() - 2], &"A".repeat(600)] {
            assert!(key().open::<OrderCursor>(ALICE, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(page_size(0), Ok(20));
        assert_eq!(page_size(7), Ok(7));
        assert_eq!(page_size(1000), Ok(100));
        assert!(page_size(-1).is_err());
    }
}
