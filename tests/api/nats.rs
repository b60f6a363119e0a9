//! NATS for the event tests. [`TestEvents`] gives a test a subject prefix
//! and a stream of its own on the machine's NATS server (127.0.0.1:4222, or
//! the private one the service itself would start where none runs), so
//! tests can share the server without seeing each other's events, and reads
//! back what the stream holds. [`PrivateNats`] is a `nats-server -js` that a
//! test owns and may stop and start again, for the outage tests.

use std::{path::PathBuf, time::Duration};

use async_nats::jetstream::{self, stream::Stream};
use orders::{config::Settings, proto};
use prost::Message;
use tokio::process::{Child, Command};

use crate::{
    local_machine::{free_port, fresh_dir},
    timing::eventually,
};

/// One event as the stream holds it.
#[derive(Debug, Clone)]
pub struct Published {
    pub subject: String,
    pub message_id: String,
    pub event_type: String,
    pub payload: bytes::Bytes,
}

impl Published {
    pub fn decode<M: Message + Default>(&self) -> M {
        M::decode(self.payload.clone()).unwrap_or_else(|e| panic!("{} decodes: {e}", self.event_type))
    }

    /// The order an order event carries.
    pub fn order(&self) -> proto::Order {
        let order = match self.event_type.as_str() {
            "orders.v1.OrderPlaced" => self.decode::<proto::OrderPlaced>().order,
            "orders.v1.OrderCancelled" => self.decode::<proto::OrderCancelled>().order,
            "orders.v1.OrderShipped" => self.decode::<proto::OrderShipped>().order,
            "orders.v1.OrderPaid" => self.decode::<proto::OrderPaid>().order,
            "orders.v1.OrderRefunded" => self.decode::<proto::OrderRefunded>().order,
            other => panic!("{other} is not an order event"),
        };
        order.expect("an order event carries its order")
    }
}

/// A test's own subject prefix and stream, on `url`.
pub struct TestEvents {
    pub url: String,
    pub prefix: String,
    pub client: async_nats::Client,
    pub jetstream: jetstream::Context,
}

impl TestEvents {
    /// A fresh prefix on the machine's NATS server, found (or started) as
    /// the service does without `--nats-url`.
    pub async fn new() -> TestEvents {
        let store = std::env::temp_dir().join("orders-test-nats");
        let url = orders::events::launcher::local_server(&store)
            .await
            .unwrap_or_else(|e| panic!("the event tests need NATS: {e}"));
        TestEvents::on(&url).await
    }

    pub async fn on(url: &str) -> TestEvents {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let prefix = format!("test-{}-{n}-{}", std::process::id(), rand::random::<u32>());
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(url)
            .await
            .unwrap_or_else(|e| panic!("NATS at {url} answers (the tests need it running): {e}"));
        let jetstream = jetstream::new(client.clone());
        TestEvents {
            url: url.to_owned(),
            prefix,
            client,
            jetstream,
        }
    }

    /// Points a server's settings at this prefix, with its relay on.
    pub fn configure(&self, settings: &mut Settings) {
        settings.events.nats_url = Some(self.url.as_str().into());
        settings.events.nats_subject_prefix = self.prefix.parse().unwrap();
        settings.events.outbox_relay = true;
    }

    /// The stream the service names after this prefix.
    pub fn stream_name(&self) -> String {
        let prefix: orders::config::SubjectPrefix = self.prefix.parse().expect("a valid prefix");
        prefix.stream_name()
    }

    async fn stream(&self) -> Option<Stream> {
        self.jetstream.get_stream(self.stream_name()).await.ok()
    }

    /// Everything the stream holds, in stream order (empty if it does not exist yet).
    pub async fn published(&self) -> Vec<Published> {
        let Some(mut stream) = self.stream().await else {
            return Vec::new();
        };
        let last = stream.info().await.expect("stream info").state.last_sequence;
        let mut all = Vec::new();
        for sequence in 1..=last {
            let Ok(raw) = stream.get_raw_message(sequence).await else {
                continue;
            };
            let header = |name: &str| raw.headers.get(name).map(|v| v.as_str().to_owned()).unwrap_or_default();
            all.push(Published {
                subject: raw.subject.to_string(),
                message_id: header("Nats-Msg-Id"),
                event_type: header("Orders-Event-Type"),
                payload: raw.payload.clone(),
            });
        }
        all
    }

    /// Waits until the stream holds at least `count` events, then returns them all.
    pub async fn wait_for(&self, count: usize, seconds: u64) -> Vec<Published> {
        let what = format!("{count} events in stream {}", self.stream_name());
        eventually(seconds, &what, || async { self.published().await.len() >= count }).await;
        self.published().await
    }

    /// Publishes `payload` to `<prefix>.<suffix>` as the orders relay does:
    /// `Orders-Event-Type` is `event_type`, `Nats-Msg-Id` is `message_id`.
    pub async fn publish(&self, suffix: &str, event_type: &str, message_id: &str, payload: &[u8]) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", message_id);
        headers.insert("Orders-Event-Type", event_type);
        let subject = format!("{}.{suffix}", self.prefix);
        let ack = self
            .jetstream
            .publish_with_headers(subject, headers, payload.to_vec().into());
        ack.await.unwrap().await.expect("JetStream stores it");
    }

    /// Deletes the stream, so the shared server does not keep it.
    pub async fn delete(&self) {
        let _ = self.jetstream.delete_stream(self.stream_name()).await;
    }
}

/// A `nats-server -js` of the test's own, on a free port, that it may stop.
pub struct PrivateNats {
    pub port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl PrivateNats {
    pub async fn start() -> PrivateNats {
        let mut nats = PrivateNats {
            port: free_port(),
            store: fresh_dir("nats"),
            child: None,
        };
        nats.restart().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port and store.
    pub async fn restart(&mut self) {
        let port = self.port.to_string();
        let mut command = Command::new("nats-server");
        command
            .args(["-js", "-a", "127.0.0.1", "-p", &port, "-sd"])
            .arg(&self.store);
        command
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        self.child = Some(command.spawn().expect("nats-server is installed"));
        let addr = format!("127.0.0.1:{}", self.port);
        eventually(10, "the private NATS answering", || async {
            tokio::net::TcpStream::connect(&addr).await.is_ok()
        })
        .await;
    }

    /// kill -9, as a crash.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kills nats-server");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
