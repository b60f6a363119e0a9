//! The gRPC metrics of go-grpc-prometheus for the server's calls, recorded
//! by the call log layer, which already sees every call start and end
//! ([`crate::middleware::log`]). [`Side::Client`] is there for the calls
//! services will make to each other (none do yet; the payments service will
//! be the first).
//!
//! Labels come from a table of every RPC the process knows, read once from
//! the descriptor sets (ours, health, reflection): service, method and
//! type (`unary`, `client_stream`, `server_stream`, `bidi_stream`). A path
//! that is in no descriptor is counted as service and method `unknown`, so
//! a caller inventing paths cannot create new series.

use std::{collections::HashMap, sync::OnceLock, time::Instant};

use metrics::{counter, histogram};
use prost::Message;
use prost_types::FileDescriptorSet;

use super::catalogue::*;

/// One RPC's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rpc {
    pub service: &'static str,
    pub method: &'static str,
    pub kind: &'static str,
}

impl Rpc {
    const UNKNOWN: Rpc = Rpc {
        service: "unknown",
        method: "unknown",
        kind: "unary",
    };

    /// The RPC at `path` (`/package.Service/Method`).
    pub fn of(path: &str) -> Rpc {
        table().get(path).copied().unwrap_or(Rpc::UNKNOWN)
    }

    /// Responses carry a stream of messages.
    pub fn streams_responses(&self) -> bool {
        matches!(self.kind, "server_stream" | "bidi_stream")
    }
}

/// Go's names of the status codes (`codes.Code.String()`), which dashboards
/// built for go-grpc-prometheus match on.
const CODE_LABELS: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// The label of status code `code` (a number outside the table is Unknown).
pub fn code_label(code: usize) -> &'static str {
    CODE_LABELS.get(code).copied().unwrap_or("Unknown")
}

fn table() -> &'static HashMap<String, Rpc> {
    static TABLE: OnceLock<HashMap<String, Rpc>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let sets = [
            crate::proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ];
        let mut table = HashMap::new();
        for set in sets
            .into_iter()
            .filter_map(|bytes| FileDescriptorSet::decode(bytes).ok())
        {
            for file in &set.file {
                for service in &file.service {
                    let full = format!("{}.{}", file.package(), service.name());
                    let service_label: &'static str = Box::leak(full.clone().into_boxed_str());
                    for method in &service.method {
                        let kind = match (method.client_streaming(), method.server_streaming()) {
                            (false, false) => "unary",
                            (true, false) => "client_stream",
                            (false, true) => "server_stream",
                            (true, true) => "bidi_stream",
                        };
                        let rpc = Rpc {
                            service: service_label,
                            method: Box::leak(method.name().to_owned().into_boxed_str()),
                            kind,
                        };
                        table.insert(format!("/{full}/{}", method.name()), rpc);
                    }
                }
            }
        }
        table
    })
}

/// Which side of a call is measured: the server's metrics or a client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Server,
    Client,
}

impl Side {
    /// started, handled, handling seconds, messages received, messages sent.
    fn names(self) -> [&'static str; 5] {
        match self {
            Side::Server => [
                SERVER_STARTED,
                SERVER_HANDLED,
                SERVER_HANDLING_SECONDS,
                SERVER_MSG_RECEIVED,
                SERVER_MSG_SENT,
            ],
            Side::Client => [
                CLIENT_STARTED,
                CLIENT_HANDLED,
                CLIENT_HANDLING_SECONDS,
                CLIENT_MSG_RECEIVED,
                CLIENT_MSG_SENT,
            ],
        }
    }
}

/// One call being measured, from its start to its status.
#[derive(Debug)]
pub struct CallMetrics {
    side: Side,
    rpc: Rpc,
    start: Instant,
}

macro_rules! labels {
    ($rpc:expr) => {
        [
            ("grpc_type", $rpc.kind),
            ("grpc_service", $rpc.service),
            ("grpc_method", $rpc.method),
        ]
    };
}

impl CallMetrics {
    /// Counts the call as started (and, but for a client stream, its one
    /// request message: streamed requests are not counted one by one).
    pub fn start(side: Side, path: &str) -> CallMetrics {
        let rpc = Rpc::of(path);
        let [started, _, _, received, sent] = side.names();
        counter!(started, &labels!(rpc)).increment(1);
        if !matches!(rpc.kind, "client_stream" | "bidi_stream") {
            let request = if side == Side::Server { received } else { sent };
            counter!(request, &labels!(rpc)).increment(1);
        }
        CallMetrics {
            side,
            rpc,
            start: Instant::now(),
        }
    }

    /// The RPC measured.
    pub fn rpc(&self) -> Rpc {
        self.rpc
    }

    /// Counts `messages` more response messages of a streaming call.
    pub fn responses(&self, messages: u64) {
        let [_, _, _, received, sent] = self.side.names();
        let response = if self.side == Side::Server { sent } else { received };
        counter!(response, &labels!(self.rpc)).increment(messages);
    }

    /// The call ended with status `code` (its number).
    pub fn finish(self, code: usize) {
        let [_, handled, seconds, _, _] = self.side.names();
        let rpc = self.rpc;
        histogram!(seconds, &labels!(rpc)).record(self.start.elapsed().as_secs_f64());
        let [kind, service, method] = labels!(rpc);
        counter!(handled, &[kind, service, method, ("grpc_code", code_label(code))]).increment(1);
        // A unary response is one message, sent only with OK.
        if !rpc.streams_responses() && code == 0 {
            self.responses(1);
        }
    }
}

/// Counts the gRPC messages in a stream of response bytes: each is a
/// 5-byte prefix (a flag and a big-endian length) and that many bytes, and
/// HTTP/2 frames may split or join them anywhere.
#[derive(Debug, Default)]
pub struct MessageCounter {
    prefix: [u8; 5],
    prefix_seen: usize,
    remaining: u64,
}

impl MessageCounter {
    /// The messages that start in `bytes`.
    pub fn feed(&mut self, mut bytes: &[u8]) -> u64 {
        let mut started = 0;
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let skip = bytes.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                bytes = &bytes[skip..];
                self.remaining -= skip as u64;
                continue;
            }
            let take = bytes.len().min(5 - self.prefix_seen);
            self.prefix[self.prefix_seen..self.prefix_seen + take].copy_from_slice(&bytes[..take]);
            self.prefix_seen += take;
            bytes = &bytes[take..];
            if self.prefix_seen == 5 {
                started += 1;
                let [_, length @ ..] = self.prefix;
                self.remaining = u64::from(u32::from_be_bytes(length));
                self.prefix_seen = 0;
            }
        }
        started
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_of_every_descriptor_has_its_labels_and_unknown_paths_share_one() {
        let create = Rpc::of("/orders.v1.OrderService/CreateOrder");
        assert_eq!(
            (create.service, create.method, create.kind),
            ("orders.v1.OrderService", "CreateOrder", "unary")
        );
        assert_eq!(Rpc::of("/grpc.health.v1.Health/Watch").kind, "server_stream");
        let reflection = Rpc::of("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
        assert_eq!(reflection.kind, "bidi_stream");
        assert_eq!(Rpc::of("/orders.v1.AuditService/ListAuditEvents").kind, "unary");
        assert_eq!(Rpc::of("/evil.Service/Random123"), Rpc::UNKNOWN);
        for method in crate::proto::Method::ALL {
            assert_ne!(Rpc::of(method.path()), Rpc::UNKNOWN, "{method:?}");
        }
    }

    #[test]
    fn messages_are_counted_however_the_bytes_are_cut() {
        let message = |len: u8| [&[0, 0, 0, 0, len][..], &vec![7; usize::from(len)]].concat();
        let stream = [message(3), message(0), message(200), message(1)].concat();
        for cut in [1, 2, 4, 5, 6, 64, stream.len()] {
            let mut counter = MessageCounter::default();
            let counted: u64 = stream.chunks(cut).map(|chunk| counter.feed(chunk)).sum();
            assert_eq!(counted, 4, "cut every {cut} bytes");
        }
    }

    #[test]
    fn codes_have_the_names_go_gives_them() {
        assert_eq!(code_label(0), "OK");
        assert_eq!(code_label(1), "Canceled");
        assert_eq!(code_label(5), "NotFound");
        assert_eq!(code_label(16), "Unauthenticated");
        assert_eq!(code_label(99), "Unknown");
    }
}
