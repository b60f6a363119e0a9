//! A small closed-loop CreateOrder load for the fault tests, behaving like a
//! well-mannered internal caller: every call has a deadline, and a call that
//! fails with UNAVAILABLE is retried with the same `request_id` (so a lost
//! reply can never turn into a second order) until it gets a definite answer.

use std::time::Duration;

use orders::proto;
use tokio::{sync::watch, task::JoinHandle, time::Instant};
use tonic::{Code, Status};

use crate::{app::Orders, requests::keyed_order_request};

/// One call and what came of it.
#[derive(Debug)]
pub struct Attempt {
    pub request_id: String,
    pub started: Instant,
    pub elapsed: Duration,
    pub result: Result<proto::Order, Status>,
}

impl Attempt {
    pub fn code(&self) -> Code {
        self.result.as_ref().map_or_else(Status::code, |_| Code::Ok)
    }

    pub fn finished(&self) -> Instant {
        self.started + self.elapsed
    }
}

/// Starts `callers` loops of CreateOrder (each ordering one unit of one of
/// `product_ids`) that run until `stop` turns true; the task returns every
/// attempt.
pub fn start_order_load(
    client: &Orders,
    product_ids: &[String],
    callers: usize,
    deadline: Duration,
    stop: watch::Receiver<bool>,
) -> JoinHandle<Vec<Attempt>> {
    let loops: Vec<_> = (0..callers)
        .map(|caller| {
            let (client, stop) = (client.clone(), stop.clone());
            let product = product_ids[caller % product_ids.len()].clone();
            tokio::spawn(caller_loop(client, caller, product, deadline, stop))
        })
        .collect();
    tokio::spawn(async move {
        let mut attempts = Vec::new();
        for caller in loops {
            attempts.extend(caller.await.expect("a load loop does not panic"));
        }
        attempts
    })
}

async fn caller_loop(
    mut client: Orders,
    caller: usize,
    product: String,
    deadline: Duration,
    stop: watch::Receiver<bool>,
) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    let mut request = new_request(caller, &product);
    while !*stop.borrow() {
        let mut call = tonic::Request::new(request.clone());
        call.set_timeout(deadline);
        let started = Instant::now();
        let result = client.create_order(call).await.map(|r| r.into_inner().order.unwrap());
        let attempt = Attempt {
            request_id: request.request_id.clone(),
            started,
            elapsed: started.elapsed(),
            result,
        };
        if attempt.code() == Code::Unavailable {
            // Retry the same request, after a pause as a real client would.
            tokio::time::sleep(Duration::from_millis(20)).await;
        } else {
            request = new_request(caller, &product);
        }
        attempts.push(attempt);
    }
    attempts
}

fn new_request(caller: usize, product: &str) -> proto::CreateOrderRequest {
    keyed_order_request(&format!("load-{caller}"), &[(product, 1)])
}
