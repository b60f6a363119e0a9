//! Pricing an order against the catalog: prices are copied at order time,
//! every line total and the order total are exact integer arithmetic, and
//! the order is refused as a whole when any product is unknown or priced in
//! another currency. Stock is the database's to check, under its row locks;
//! [`check_stock`] explains a shortage it found.

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    money::Money,
    order::{PRODUCT_RESOURCE, RequestedLine},
    violations::FieldViolation,
};
use crate::error::{ApiError, PreconditionViolation};

/// What the catalog says about a product: what an order copies into its
/// lines, and whether it can be ordered at all.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub price: Money,
    pub archived: bool,
}

/// A line with the price copied from the catalog.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price: Money,
    pub line_total: Money,
}

/// An order ready to be stored: every line priced, the total computed.
#[derive(Debug, Clone)]
pub struct PricedOrder {
    pub lines: Vec<PricedLine>,
    pub total: Money,
}

/// Prices `lines` from `catalog`, refusing (in this order) unknown
/// products, archived ones and mixed currencies.
pub fn price_order(lines: &[RequestedLine], catalog: &HashMap<Uuid, CatalogEntry>) -> Result<PricedOrder, ApiError> {
    let entries = lines
        .iter()
        .map(|line| {
            catalog.get(&line.product_id).ok_or_else(|| ApiError::NotFound {
                reason: "PRODUCT_NOT_FOUND",
                resource_type: PRODUCT_RESOURCE,
                name: line.product_id.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_orderable(&entries)?;
    check_one_currency(&entries)?;
    let mut total = entries[0].price.zero();
    let mut priced = Vec::with_capacity(lines.len());
    for (line, entry) in lines.iter().zip(entries) {
        let line_total = entry
            .price
            .checked_mul(i64::from(line.quantity))
            .ok_or_else(total_too_large)?;
        total = total.checked_add(&line_total).ok_or_else(total_too_large)?;
        priced.push(PricedLine {
            product_id: entry.product_id,
            sku: entry.sku.clone(),
            name: entry.name.clone(),
            quantity: line.quantity,
            unit_price: entry.price.clone(),
            line_total,
        });
    }
    Ok(PricedOrder { lines: priced, total })
}

/// PRODUCT_ARCHIVED naming every archived product of the order.
fn check_orderable(entries: &[&CatalogEntry]) -> Result<(), ApiError> {
    let violations: Vec<_> = (entries.iter().enumerate())
        .filter(|(_, e)| e.archived)
        .map(|(i, e)| PreconditionViolation {
            kind: "PRODUCT_ARCHIVED",
            subject: format!("products/{}", e.product_id),
            description: format!(
                "line_items[{i}]: {} ({}) is archived and can no longer be ordered",
                e.sku, e.name
            ),
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    Err(ApiError::FailedPrecondition {
        reason: "PRODUCT_ARCHIVED",
        message: format!(
            "{} of the ordered products are archived and can no longer be ordered; nothing was ordered",
            violations.len()
        ),
        violations,
    })
}

fn check_one_currency(entries: &[&CatalogEntry]) -> Result<(), ApiError> {
    let currency = entries[0].price.currency_code();
    let violations: Vec<_> = (entries.iter().enumerate())
        .filter(|(_, e)| e.price.currency_code() != currency)
        .map(|(i, e)| {
            FieldViolation::new(
                format!("line_items[{i}].product_id"),
                format!(
                    "is priced in {}, but line_items[0] is priced in {currency}; an order has one currency",
                    e.price.currency_code()
                ),
            )
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    let message = format!("all products of an order must be priced in one currency ({currency})");
    Err(ApiError::InvalidArgument {
        reason: "CURRENCY_MISMATCH",
        message,
        violations,
    })
}

/// Refuses an order some of whose lines ask for more than `stock` (by
/// product) holds, naming every short product, so that a caller can fix the
/// whole order at once.
pub fn check_stock(priced: &PricedOrder, stock: &HashMap<Uuid, i64>) -> Result<(), ApiError> {
    let violations: Vec<_> = (priced.lines.iter().enumerate())
        .filter_map(|(i, line)| {
            let available = stock.get(&line.product_id).copied().unwrap_or(0);
            (available < i64::from(line.quantity)).then(|| PreconditionViolation {
                kind: "STOCK",
                subject: format!("products/{}", line.product_id),
                description: format!(
                    "line_items[{i}] asks for {} of {} ({}), but only {available} in stock",
                    line.quantity, line.sku, line.name
                ),
            })
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    Err(ApiError::FailedPrecondition {
        reason: "INSUFFICIENT_STOCK",
        message: format!(
            "not enough stock for {} of the ordered products; nothing was ordered",
            violations.len()
        ),
        violations,
    })
}

fn total_too_large() -> ApiError {
    ApiError::OutOfRange {
        reason: "TOTAL_TOO_LARGE",
        message: "the order total is too large to represent".to_owned(),
        field: "line_items",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(currency: &str, units: i64, nanos: i32) -> CatalogEntry {
        CatalogEntry {
            product_id: Uuid::new_v4(),
            sku: format!("SKU-{units}"),
            name: "Thing".into(),
            price: Money::from_parts(currency, units, nanos).unwrap(),
            archived: false,
        }
    }

    fn setup(entries: Vec<CatalogEntry>, quantities: &[i32]) -> (Vec<RequestedLine>, HashMap<Uuid, CatalogEntry>) {
        let lines = entries
            .iter()
            .zip(quantities)
            .map(|(e, &quantity)| RequestedLine {
                product_id: e.product_id,
                quantity,
            })
            .collect();
        (lines, entries.into_iter().map(|e| (e.product_id, e)).collect())
    }

    #[test]
    fn totals_are_exact() {
        let (lines, catalog) = setup(
            vec![entry("EUR", 19, 990_000_000), entry("EUR", 0, 10_000_000)],
            &[3, 7],
        );
        let priced = price_order(&lines, &catalog).unwrap();
        assert_eq!(
            (priced.lines[0].line_total.units(), priced.lines[0].line_total.nanos()),
            (59, 970_000_000)
        );
        assert_eq!(
            (priced.lines[1].line_total.units(), priced.lines[1].line_total.nanos()),
            (0, 70_000_000)
        );
        assert_eq!((priced.total.units(), priced.total.nanos()), (60, 40_000_000));
    }

    #[test]
    fn every_short_product_is_named() {
        let (lines, catalog) = setup(
            vec![entry("EUR", 1, 0), entry("EUR", 2, 0), entry("EUR", 3, 0)],
            &[2, 5, 1],
        );
        let stock = lines.iter().zip([1, 5, 0]).map(|(l, s)| (l.product_id, s)).collect();
        let priced = price_order(&lines, &catalog).unwrap();
        match check_stock(&priced, &stock).unwrap_err() {
            ApiError::FailedPrecondition { reason, violations, .. } => {
                assert_eq!(reason, "INSUFFICIENT_STOCK");
                let subjects: Vec<_> = violations.iter().map(|v| v.subject.clone()).collect();
                assert_eq!(
                    subjects,
                    [
                        format!("products/{}", lines[0].product_id),
                        format!("products/{}", lines[2].product_id)
                    ]
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_products_and_mixed_currencies_are_refused() {
        let (mut lines, catalog) = setup(vec![entry("EUR", 1, 0), entry("USD", 1, 0)], &[1, 1]);
        assert!(matches!(
            price_order(&lines, &catalog),
            Err(ApiError::InvalidArgument {
                reason: "CURRENCY_MISMATCH",
                ..
            })
        ));
        lines.push(RequestedLine {
            product_id: Uuid::new_v4(),
            quantity: 1,
        });
        assert!(matches!(price_order(&lines, &catalog), Err(ApiError::NotFound { .. })));
    }

    #[test]
    fn every_archived_product_is_named_and_nothing_is_priced() {
        let mut archived = entry("EUR", 2, 0);
        archived.archived = true;
        let archived_id = archived.product_id;
        let (lines, catalog) = setup(vec![entry("EUR", 1, 0), archived], &[1, 1]);
        match price_order(&lines, &catalog) {
            Err(ApiError::FailedPrecondition {
                reason: "PRODUCT_ARCHIVED",
                violations,
                ..
            }) => {
                assert_eq!(violations.len(), 1);
                assert_eq!(violations[0].subject, format!("products/{archived_id}"));
                assert!(
                    violations[0]
                        .description
                        .starts_with("line_items[1]: SKU-2 (Thing) is archived")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
