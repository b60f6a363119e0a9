//! Changes to a product's details, parsed from requests: UpdateProduct's
//! field mask and new values (AIP-134), archiving (AIP-164), and the etag
//! that guards them (AIP-154).
//!
//! The etag is a checksum of the product's id and its `revision`, which
//! counts changes to its details (name, description, price, archived or
//! not) and not to its stock: orders take stock all the time, and an admin
//! editing a price must not be refused because somebody bought one.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    fields,
    money::{Money, parse_price},
    violations::Violations,
};
use crate::{error::ApiError, proto};

/// The longest etag a request may carry (ours are 16 characters).
const MAX_ETAG_LEN: usize = 64;

/// The fields UpdateProduct can change, as named in a field mask.
const MUTABLE: [&str; 3] = ["name", "description", "price"];
/// The other fields of `Product`: known, but not changeable.
const IMMUTABLE: [&str; 7] = [
    "product_id",
    "sku",
    "stock",
    "create_time",
    "update_time",
    "etag",
    "archive_time",
];

/// The etag of a product at `revision`: opaque to clients, different for
/// every product and every revision.
pub fn etag(id: Uuid, revision: i64) -> String {
    let digest = Sha256::new()
        .chain_update(id.as_bytes())
        .chain_update(revision.to_be_bytes())
        .finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// New values for some of a product's details; `None` keeps the old one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
}

impl Details {
    /// What applying these new values to `current` (every field set)
    /// changes: the fields whose values differ, before and after. `None`
    /// when nothing would change.
    pub fn changes_to(&self, current: &Details) -> Option<ChangedValues> {
        let (mut fields, mut before, mut after) = (Vec::new(), Map::new(), Map::new());
        let mut compare = |field: &'static str, new: Option<Value>, old: Option<Value>| {
            if let (Some(new), Some(old)) = (new, old)
                && new != old
            {
                fields.push(field);
                before.insert(field.to_owned(), old);
                after.insert(field.to_owned(), new);
            }
        };
        compare(
            "name",
            self.name.as_deref().map(Value::from),
            current.name.as_deref().map(Value::from),
        );
        let description = |d: &Details| d.description.as_deref().map(Value::from);
        compare("description", description(self), description(current));
        compare(
            "price",
            self.price.as_ref().map(money),
            current.price.as_ref().map(money),
        );
        let changed = !fields.is_empty();
        changed.then_some(ChangedValues {
            fields,
            before: Value::Object(before),
            after: Value::Object(after),
        })
    }
}

/// A money value as the audit trail shows it.
fn money(price: &Money) -> Value {
    json!({ "currency_code": price.currency_code(), "units": price.units(), "nanos": price.nanos() })
}

/// What a change changed: the fields (as in a field mask), with their
/// values before and after as JSON objects of those keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedValues {
    pub fields: Vec<&'static str>,
    pub before: Value,
    pub after: Value,
}

impl ChangedValues {
    /// Archiving (`archive`) or bringing back, from the other side.
    pub fn archived(archive: bool) -> Self {
        ChangedValues {
            fields: vec!["archived"],
            before: json!({ "archived": !archive }),
            after: json!({ "archived": archive }),
        }
    }
}

/// UpdateProduct: which product, the new values, and the etag it was read at.
#[derive(Debug, Clone)]
pub struct ProductUpdate {
    pub product_id: Uuid,
    pub details: Details,
    pub etag: Option<String>,
    pub request_id: Option<Uuid>,
}

impl TryFrom<&proto::UpdateProductRequest> for ProductUpdate {
    type Error = ApiError;

    fn try_from(request: &proto::UpdateProductRequest) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        // Without a product, its fields and the mask that picks among them
        // have nothing to say.
        let Some(product) = request.product.as_ref() else {
            v.add("product", "is required");
            v.check("request_id", fields::request_id(&request.request_id));
            return Err(v.into_error());
        };
        let product_id = v.check("product.product_id", fields::uuid(&product.product_id));
        let etag = v.check("product.etag", optional_etag(&product.etag));
        let paths = v.check("update_mask", mask_paths(request.update_mask.as_ref(), product));
        let details = paths.and_then(|paths| details(product, &paths, &mut v));
        let request_id = v.check("request_id", fields::request_id(&request.request_id));
        let update = (|| {
            Some(ProductUpdate {
                product_id: product_id?,
                details: details?,
                etag: etag?,
                request_id: request_id?,
            })
        })();
        v.finish(update)
    }
}

/// The mutable fields the mask names: its paths (`*` for all), or, for an
/// empty mask, those set in `product` (AIP-134's implied mask).
fn mask_paths(mask: Option<&prost_types::FieldMask>, product: &proto::Product) -> Result<Vec<&'static str>, String> {
    let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    if paths.is_empty() {
        let set = [
            !product.name.is_empty(),
            !product.description.is_empty(),
            product.price.is_some(),
        ];
        let implied: Vec<_> = MUTABLE
            .into_iter()
            .zip(set)
            .filter(|(_, s)| *s)
            .map(|(f, _)| f)
            .collect();
        return match implied.is_empty() {
            true => Err("is empty and `product` sets none of name, description and price: nothing to change".into()),
            false => Ok(implied),
        };
    }
    let mut named = Vec::new();
    for path in paths {
        match path.as_str() {
            "*" if paths.len() == 1 => named.extend(MUTABLE),
            "*" => return Err("`*` must be the only path".into()),
            p => named.push(mutable_path(p)?),
        }
    }
    named.dedup();
    Ok(named)
}

fn mutable_path(path: &str) -> Result<&'static str, String> {
    if let Some(field) = MUTABLE.into_iter().find(|f| *f == path) {
        return Ok(field);
    }
    let quoted = fields::quote(path);
    Err(match path {
        p if IMMUTABLE.contains(&p) => {
            format!("names {quoted}, which cannot change: only name, description and price can")
        }
        p if p.starts_with("price.") => format!("names {quoted}: change the whole price (path \"price\")"),
        _ => format!("names {quoted}, which is not a field of Product (name, description and price can change)"),
    })
}

/// The new values of the fields in `paths`, each checked as in CreateProduct.
fn details(product: &proto::Product, paths: &[&str], v: &mut Violations) -> Option<Details> {
    let mut details = Details::default();
    let mut valid = true;
    for path in paths {
        valid &= match *path {
            "name" => {
                details.name = v.check("product.name", fields::text(&product.name, 1, 200));
                details.name.is_some()
            }
            "description" => {
                details.description = v.check("product.description", fields::text(&product.description, 0, 2000));
                details.description.is_some()
            }
            _ => {
                details.price = parse_price("product.price", product.price.as_ref(), v);
                details.price.is_some()
            }
        };
    }
    valid.then_some(details)
}

/// An etag from a request: empty means "no condition". One that cannot
/// be ours (too long, not visible ASCII) is refused here; any other that
/// is not current is ABORTED when the product is read.
fn optional_etag(value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > MAX_ETAG_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "is not an etag of this service (at most {MAX_ETAG_LEN} visible ASCII characters): send it as read"
        ));
    }
    Ok(Some(value.to_owned()))
}

/// ArchiveProduct or UnarchiveProduct: which product, to which side.
#[derive(Debug, Clone)]
pub struct ArchiveChange {
    pub product_id: Uuid,
    /// True to archive, false to bring back.
    pub archive: bool,
    pub etag: Option<String>,
    pub request_id: Option<Uuid>,
}

impl ArchiveChange {
    /// Parses the fields both requests share.
    fn parse(archive: bool, product_id: &str, etag: &str, request_id: &str) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let product_id = v.check("product_id", fields::uuid(product_id));
        let etag = v.check("etag", optional_etag(etag));
        let request_id = v.check("request_id", fields::request_id(request_id));
        let change = (|| {
            Some(ArchiveChange {
                product_id: product_id?,
                archive,
                etag: etag?,
                request_id: request_id?,
            })
        })();
        v.finish(change)
    }
}

/// The two requests have the same fields; which one it is says the side.
macro_rules! archive_change_from {
    ($($request:ident => $archive:literal),* $(,)?) => {$(
        impl TryFrom<&proto::$request> for ArchiveChange {
            type Error = ApiError;

            fn try_from(request: &proto::$request) -> Result<Self, ApiError> {
                ArchiveChange::parse($archive, &request.product_id, &request.etag, &request.request_id)
            }
        }
    )*};
}

archive_change_from! {
    ArchiveProductRequest => true,
    UnarchiveProductRequest => false,
}

#[cfg(test)]
mod tests;
