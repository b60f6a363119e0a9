//! Catalog commands: a new product and a restock, parsed from requests.

use uuid::Uuid;

use crate::{error::ApiError, proto};

use super::{
    fields,
    money::{Money, parse_price},
    violations::Violations,
};

/// The most units of one product that can be in stock.
pub const MAX_STOCK: i64 = 1_000_000_000;

/// A product to add to the catalog.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: i64,
    pub request_id: Option<Uuid>,
}

impl TryFrom<&proto::CreateProductRequest> for NewProduct {
    type Error = ApiError;

    fn try_from(request: &proto::CreateProductRequest) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let sku = v.check("sku", sku(&request.sku));
        let name = v.check("name", fields::text(&request.name, 1, 200));
        let description = v.check("description", fields::text(&request.description, 0, 2000));
        let price = parse_price("price", request.price.as_ref(), &mut v);
        let stock = v.check("stock", quantity(request.stock, 0));
        let request_id = v.check("request_id", fields::request_id(&request.request_id));
        let product = (|| {
            Some(NewProduct {
                sku: sku?,
                name: name?,
                description: description?,
                price: price?,
                stock: stock?,
                request_id: request_id?,
            })
        })();
        v.finish(product)
    }
}

/// Units to add to a product's stock.
#[derive(Debug, Clone, Copy)]
pub struct Restock {
    pub product_id: Uuid,
    pub quantity: i64,
    pub request_id: Option<Uuid>,
}

impl TryFrom<&proto::RestockProductRequest> for Restock {
    type Error = ApiError;

    fn try_from(request: &proto::RestockProductRequest) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let product_id = v.check("product_id", fields::uuid(&request.product_id));
        let quantity = v.check("quantity", quantity(request.quantity, 1));
        let request_id = v.check("request_id", fields::request_id(&request.request_id));
        let restock = (|| {
            Some(Restock {
                product_id: product_id?,
                quantity: quantity?,
                request_id: request_id?,
            })
        })();
        v.finish(restock)
    }
}

/// Checks a SKU: 1–64 letters, digits, '-', '_' or '.', used as given.
fn sku(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("is required".to_owned());
    }
    if value.len() > 64 {
        return Err("must be at most 64 characters".to_owned());
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err("may contain only letters, digits, '-', '_' and '.'".to_owned());
    }
    Ok(value.to_owned())
}

/// Checks a stock quantity between `min` and [`MAX_STOCK`].
fn quantity(value: i64, min: i64) -> Result<i64, String> {
    if (min..=MAX_STOCK).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between {min} and {MAX_STOCK} (got {value})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> proto::CreateProductRequest {
        proto::CreateProductRequest {
            sku: "TEA-GREEN-100G".into(),
            name: "Green tea".into(),
            description: String::new(),
            price: Some(proto::Money {
                currency_code: "EUR".into(),
                units: 4,
                nanos: 500_000_000,
            }),
            stock: 10,
            request_id: String::new(),
        }
    }

    #[test]
    fn a_valid_request_parses() {
        let product = NewProduct::try_from(&request()).unwrap();
        assert_eq!(product.sku, "TEA-GREEN-100G");
        assert_eq!(product.price.units(), 4);
        assert_eq!(product.request_id, None);
    }

    #[test]
    fn bad_sku_stock_and_request_id_are_all_reported() {
        let mut r = request();
        r.sku = "tea green".into();
        r.stock = -1;
        r.request_id = "nope".into();
        match NewProduct::try_from(&r).unwrap_err() {
            ApiError::InvalidArgument { violations, .. } => {
                let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
                assert_eq!(fields, ["sku", "stock", "request_id"]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn restock_needs_a_positive_quantity() {
        let r = proto::RestockProductRequest {
            product_id: Uuid::new_v4().to_string(),
            quantity: 0,
            request_id: String::new(),
        };
        assert!(Restock::try_from(&r).is_err());
    }
}
