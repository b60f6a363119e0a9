//! Changing a product's details (UpdateProduct) and archiving it or
//! bringing it back (ArchiveProduct, UnarchiveProduct).
//!
//! Each runs in one transaction: the product's row lock first (so its
//! events keep commit order, see `db::outbox`, and nobody changes it
//! between the etag check and the write), then the idempotency key, the
//! etag, the change with its audit row and event. A change that changes
//! nothing (the same values, archiving an archived product) writes no row
//! and no event and answers with the product as it is.
//!
//! After the commit this process forgets its cached entry; the other
//! processes find theirs stale at their next order for the product
//! (`place_order` compares under its locks; see `catalog_cache`).

use diesel_async::{AsyncConnection, AsyncPgConnection};
use prost::Message;

use super::{Call, catalog::product_not_found, to_event, to_proto};
use crate::{
    db::{
        audit::{self, Action, Event},
        idempotency::{self, IdempotencyKey, Start},
        products::{self, ProductRow},
    },
    domain::{
        order::PRODUCT_RESOURCE,
        product_change::{ArchiveChange, ChangedValues, Details, ProductUpdate, etag},
    },
    error::ApiError,
    monitoring, proto,
};

/// Applies an UpdateProduct.
pub async fn update_product(
    call: &Call,
    update: &ProductUpdate,
    key: Option<&IdempotencyKey>,
) -> Result<proto::UpdateProductResponse, ApiError> {
    let actor = call.actor(update.request_id);
    let id = update.product_id;
    let response = call
        .run(async |conn| {
            conn.transaction(async |conn| {
                let current = match start(conn, &update.product_id, update.etag.as_deref(), key).await? {
                    Started::Replay(response) => return Ok(response),
                    Started::Fresh(current) => current,
                };
                let before = to_proto::product(current.clone());
                let product = match update.details.changes_to(&details_of(&current)?) {
                    None => before,
                    Some(changes) => {
                        let after = to_proto::product(products::update_details(conn, id, &update.details).await?);
                        let event = to_event::product_updated(&after, &before, &changes.fields, &actor);
                        let change = Event::product_change(Action::ProductUpdated, id, &changes);
                        audit::record(conn, &actor, &change, &event).await?;
                        after
                    }
                };
                finish(conn, key, proto::UpdateProductResponse { product: Some(product) }).await
            })
            .await
        })
        .await?;
    changed(call, &[id]);
    Ok(response)
}

/// Applies an ArchiveProduct or UnarchiveProduct; `respond` wraps the
/// product in that RPC's response.
pub async fn change_archive<R: Message + Default + Clone>(
    call: &Call,
    change: &ArchiveChange,
    key: Option<&IdempotencyKey>,
    respond: fn(proto::Product) -> R,
) -> Result<R, ApiError> {
    let actor = call.actor(change.request_id);
    let id = change.product_id;
    let response = call
        .run(async |conn| {
            conn.transaction(async |conn| {
                let current = match start(conn, &id, change.etag.as_deref(), key).await? {
                    Started::Replay(response) => return Ok(response),
                    Started::Fresh(current) => current,
                };
                if current.archive_time.is_some() == change.archive {
                    return finish(conn, key, respond(to_proto::product(current))).await;
                }
                let product = to_proto::product(products::set_archived(conn, id, change.archive).await?);
                let values = ChangedValues::archived(change.archive);
                let action = if change.archive {
                    Action::ProductArchived
                } else {
                    Action::ProductUnarchived
                };
                let event = to_event::product_archive_changed(&product, &actor);
                audit::record(conn, &actor, &Event::product_change(action, id, &values), &event).await?;
                finish(conn, key, respond(product)).await
            })
            .await
        })
        .await?;
    changed(call, &[id]);
    Ok(response)
}

enum Started<R> {
    Fresh(ProductRow),
    Replay(R),
}

/// Locks the product, claims the key, checks the etag: the product as it
/// is, or the first response to this request.
async fn start<R: Message + Default>(
    conn: &mut AsyncPgConnection,
    id: &uuid::Uuid,
    expected_etag: Option<&str>,
    key: Option<&IdempotencyKey>,
) -> Result<Started<R>, ApiError> {
    let current = products::lock(conn, std::slice::from_ref(id)).await?.pop();
    let current = current.ok_or_else(|| product_not_found(*id))?;
    if let Start::Replay(response) = idempotency::start(conn, key).await? {
        monitoring::count_replay(key.map(|key| key.scope.as_str()));
        return Ok(Started::Replay(response));
    }
    match expected_etag {
        Some(expected) if expected != etag(current.id, current.revision) => Err(ApiError::StaleEtag {
            message: format!(
                "product {id} has changed since etag {expected:?} was read; nothing was changed: \
                 read it again and reapply the change"
            ),
            resource_type: PRODUCT_RESOURCE,
            name: id.to_string(),
        }),
        _ => Ok(Started::Fresh(current)),
    }
}

/// Stores the response under the key and answers with it.
async fn finish<R: Message>(
    conn: &mut AsyncPgConnection,
    key: Option<&IdempotencyKey>,
    response: R,
) -> Result<R, ApiError> {
    idempotency::finish(conn, key, &response).await?;
    Ok(response)
}

/// After a commit: this process's cache forgets the products, and the
/// relay is told that events are waiting.
fn changed(call: &Call, ids: &[uuid::Uuid]) {
    call.state.products.forget(ids);
    call.state.outbox.ring();
}

/// The current details of a product, every field set.
fn details_of(row: &ProductRow) -> Result<Details, ApiError> {
    let price = row.price().map_err(ApiError::internal)?;
    Ok(Details {
        name: Some(row.name.clone()),
        description: Some(row.description.clone()),
        price: Some(price),
    })
}
