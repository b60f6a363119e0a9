//! Steady load for the scale-out tests: a few callers, each placing one
//! order after another through one channel (nginx's address), every order
//! with a `request_id`, until told to stop; then what happened to each.
//!
//! Here so that the crash and restart tests can check every call: an
//! acknowledged order must be stored, a failed call retried with its
//! `request_id` must end with exactly one order.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use orders::proto::{self, order_service_client::OrderServiceClient};
use tokio::task::JoinHandle;
use tonic::{Code, transport::Channel};

use crate::{
    requests::keyed_order_request,
    timing::{eventually, within},
};

/// One CreateOrder call and its outcome: the order's id, or the code.
pub struct Call {
    pub request: proto::CreateOrderRequest,
    pub outcome: Result<String, Code>,
}

/// Callers running until [`Callers::stop`].
pub struct Callers {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<Vec<Call>>>,
}

impl Callers {
    /// `n` callers ordering one unit of `product_id` each time, in a loop.
    pub fn start(channel: &Channel, product_id: &str, n: usize) -> Callers {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let tasks = (0..n)
            .map(|i| {
                let client = OrderServiceClient::new(channel.clone());
                let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
                let (customer, product) = (format!("caller-{i}"), product_id.to_owned());
                tokio::spawn(async move {
                    let mut calls = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let request = keyed_order_request(&customer, &[(&product, 1)]);
                        let outcome = place(&client, &request).await;
                        acknowledged.fetch_add(outcome.is_ok() as usize, Ordering::Relaxed);
                        calls.push(Call { request, outcome });
                    }
                    calls
                })
            })
            .collect();
        Callers {
            stop,
            acknowledged,
            tasks,
        }
    }

    /// Waits until `more` orders beyond the ones so far were acknowledged.
    pub async fn wait_for_more(&self, more: usize) {
        let target = self.acknowledged.load(Ordering::Relaxed) + more;
        let what = format!("{target} orders acknowledged");
        eventually(30, &what, async || self.acknowledged.load(Ordering::Relaxed) >= target).await;
    }

    /// Stops the callers and returns every call they made.
    pub async fn stop(self) -> Vec<Call> {
        self.stop.store(true, Ordering::Relaxed);
        let mut calls = Vec::new();
        for task in self.tasks {
            calls.extend(within(30, task).await.expect("a caller does not panic"));
        }
        calls
    }
}

/// One CreateOrder with a 5 s deadline: the order's id, or the code.
pub async fn place(client: &OrderServiceClient<Channel>, request: &proto::CreateOrderRequest) -> Result<String, Code> {
    let mut call = tonic::Request::new(request.clone());
    call.set_timeout(Duration::from_secs(5));
    let reply = client.clone().create_order(call).await;
    reply
        .map(|r| r.into_inner().order.unwrap().order_id)
        .map_err(|status| status.code())
}
