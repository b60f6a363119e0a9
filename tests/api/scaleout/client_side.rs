//! Balancing in the client, with no proxy in between: tonic's
//! `Channel::balance_list` over the replicas' addresses, and
//! `Channel::balance_channel` for a list that changes (what a client
//! refreshing a DNS name of every pod would feed it). The README's
//! "Scaling out" section shows the same code.

use orders::proto::{catalog_service_client::CatalogServiceClient, order_service_client::OrderServiceClient};
use tonic::transport::{Channel, Endpoint, channel::Change};

use crate::{
    requests::{order_request, product_request},
    test_database::TestDatabase,
};

use super::replicas::{Replica, start_replicas};

fn endpoint(replica: &Replica) -> Endpoint {
    Endpoint::from_shared(format!("http://{}", replica.addr)).unwrap()
}

/// `n` orders of one new product through `channel`, one after another.
async fn place_orders(channel: &Channel, n: usize) {
    let product = CatalogServiceClient::new(channel.clone())
        .create_product(product_request(&format!("SKU-{n}"), (1, 0, "EUR"), 1000))
        .await
        .unwrap();
    let id = product.into_inner().product.unwrap().product_id;
    let mut orders = OrderServiceClient::new(channel.clone());
    for _ in 0..n {
        orders.create_order(order_request("ada", &[(&id, 1)])).await.unwrap();
    }
}

async fn answered(replicas: &[Replica]) -> Vec<f64> {
    let mut counts = Vec::new();
    for replica in replicas {
        counts.push(replica.answered("CreateOrder").await);
    }
    counts
}

#[tokio::test]
async fn tonic_balance_list_spreads_calls_over_every_replica() {
    let database = TestDatabase::create().await;
    let replicas = start_replicas(&database.url, 3).await;
    let channel = Channel::balance_list(replicas.iter().map(endpoint));

    place_orders(&channel, 30).await;

    // Power of two choices: random, not in turn, but 30 calls reach all
    // three (a replica missed by all of them: about 1 in 50,000 runs).
    let counts = answered(&replicas).await;
    assert_eq!(counts.iter().sum::<f64>(), 30.0, "{counts:?}");
    assert!(counts.iter().all(|&n| n > 0.0), "{counts:?}");
}

#[tokio::test]
async fn a_replica_removed_from_a_balanced_channel_gets_no_more_calls() {
    let database = TestDatabase::create().await;
    let mut replicas = start_replicas(&database.url, 3).await;
    let (channel, changes) = Channel::balance_channel::<usize>(8);
    for (key, replica) in replicas.iter().enumerate() {
        changes.send(Change::Insert(key, endpoint(replica))).await.unwrap();
    }
    place_orders(&channel, 30).await;
    let before = answered(&replicas).await;

    // What a client does when the name it resolves stops listing a pod.
    changes.send(Change::Remove(0)).await.unwrap();
    place_orders(&channel, 20).await;
    let after = answered(&replicas).await;
    assert_eq!(after[0], before[0], "{before:?} then {after:?}");
    assert_eq!(after[1] + after[2], before[1] + before[2] + 20.0, "{after:?}");
    // Then it may go: nothing is sent to it any more.
    replicas[0].terminate().await;
    place_orders(&channel, 10).await;
}
