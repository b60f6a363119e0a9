//! A fault-injecting TCP proxy for the connection between the service and
//! PostgreSQL, for faults that need a network in between.
//!
//! It forwards bytes both ways untouched until told otherwise:
//! * [`FaultProxy::lose_reply_containing`]: the first reply from PostgreSQL
//!   that contains some bytes is thrown away and its connection cut. A reply
//!   to a statement that commits (a `COMMIT`, or a single statement outside
//!   a transaction) comes after the commit, so the service cannot know
//!   whether its work was stored;
//! * [`FaultProxy::cut_all`]: every open connection is closed at once.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    cut_generation: watch::Sender<u64>,
    acceptor: tokio::task::JoinHandle<()>,
}

struct Shared {
    upstream: SocketAddr,
    lose_reply: Mutex<Option<&'static [u8]>>,
    lost_replies: AtomicUsize,
}

impl FaultProxy {
    /// Listens on a free local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            lose_reply: Mutex::new(None),
            lost_replies: AtomicUsize::new(0),
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

    /// Arms the proxy: the first reply containing `marker` is lost.
    pub fn lose_reply_containing(&self, marker: &'static [u8]) {
        *self.shared.lose_reply.lock().unwrap() = Some(marker);
    }

    /// How many replies were thrown away so far.
    pub fn lost_replies(&self) -> usize {
        self.shared.lost_replies.load(Ordering::SeqCst)
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
    loop {
        tokio::select! {
            read = from_client.read(&mut up) => {
                let Ok(n @ 1..) = read else { return };
                if to_server.write_all(&up[..n]).await.is_err() { return }
            }
            read = from_server.read(&mut down) => {
                let Ok(n @ 1..) = read else { return };
                if shared.take_if_armed(&down[..n]) {
                    // PostgreSQL has done the work; the service never hears it.
                    return;
                }
                if to_client.write_all(&down[..n]).await.is_err() { return }
            }
            _ = cuts.changed() => return,
        }
    }
}

impl Shared {
    /// True (once) when the proxy is armed and `reply` holds the marker.
    fn take_if_armed(&self, reply: &[u8]) -> bool {
        let mut armed = self.lose_reply.lock().unwrap();
        if !armed.is_some_and(|marker| contains(reply, marker)) {
            return false;
        }
        *armed = None;
        self.lost_replies.fetch_add(1, Ordering::SeqCst);
        true
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}
