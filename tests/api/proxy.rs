//! A fault-injecting TCP proxy for the connection between the service and
//! PostgreSQL, for faults that need a network in between.
//!
//! It forwards bytes both ways untouched until told otherwise:
//! * [`FaultProxy::lose_next_commit_reply`]: the next `COMMIT` is forwarded,
//!   PostgreSQL commits, and its reply is thrown away as the connection is
//!   cut: the service cannot know whether its transaction committed;
//! * [`FaultProxy::cut_all`]: every open connection is reset at once.
//!
//! diesel-async sends `COMMIT` as a simple-protocol query, a `Q` message
//! whose text is `COMMIT\0`, and only after every earlier reply has arrived,
//! so the first bytes back after it are the commit's answer.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

const COMMIT_QUERY: &[u8] = b"COMMIT\0";

pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    cut_generation: watch::Sender<u64>,
    acceptor: tokio::task::JoinHandle<()>,
}

struct Shared {
    upstream: SocketAddr,
    lose_commit_reply: AtomicBool,
    lost_commit_replies: AtomicUsize,
}

impl FaultProxy {
    /// Listens on a free local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            lose_commit_reply: AtomicBool::new(false),
            lost_commit_replies: AtomicUsize::new(0),
        });
        let (cut_generation, cuts) = watch::channel(0);
        let acceptor = tokio::spawn(accept(listener, shared.clone(), cuts));
        FaultProxy {
            addr,
            shared,
            cut_generation,
            acceptor,
        }
    }

    /// `url` (a `postgres://user@host:port/db` URL) with its host and port
    /// replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme_and_user, rest) = url.split_once('@').expect("a URL with user@host");
        let path = &rest[rest.find('/').expect("a URL with a database")..];
        format!("{scheme_and_user}@{}{path}", self.addr)
    }

    /// Arms the proxy: the next COMMIT goes through, its reply does not.
    pub fn lose_next_commit_reply(&self) {
        self.shared.lose_commit_reply.store(true, Ordering::SeqCst);
    }

    /// How many commit replies were thrown away so far.
    pub fn lost_commit_replies(&self) -> usize {
        self.shared.lost_commit_replies.load(Ordering::SeqCst)
    }

    /// Resets every connection open right now.
    pub fn cut_all(&self) {
        self.cut_generation.send_modify(|generation| *generation += 1);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut_all();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, cuts: watch::Receiver<u64>) {
    while let Ok((client, _)) = listener.accept().await {
        let Ok(server) = TcpStream::connect(shared.upstream).await else {
            continue; // the client sees its connection closed, as with a dead server
        };
        let mut cuts = cuts.clone();
        cuts.mark_unchanged();
        tokio::spawn(forward(client, server, shared.clone(), cuts));
    }
}

/// Copies both ways until either side closes or a fault ends the connection.
async fn forward(mut client: TcpStream, mut server: TcpStream, shared: Arc<Shared>, mut cuts: watch::Receiver<u64>) {
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let mut commit_in_flight = false;
    loop {
        tokio::select! {
            read = from_client.read(&mut up) => {
                let Ok(n @ 1..) = read else { return };
                if contains(&up[..n], COMMIT_QUERY) && shared.lose_commit_reply.swap(false, Ordering::SeqCst) {
                    commit_in_flight = true;
                }
                if to_server.write_all(&up[..n]).await.is_err() { return }
            }
            read = from_server.read(&mut down) => {
                let Ok(n @ 1..) = read else { return };
                if commit_in_flight {
                    // PostgreSQL has committed; the service never hears it.
                    shared.lost_commit_replies.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                if to_client.write_all(&down[..n]).await.is_err() { return }
            }
            _ = cuts.changed() => return,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}
