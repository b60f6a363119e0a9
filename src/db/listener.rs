//! A connection of its own, `LISTEN`ing on a channel, so a background
//! worker (the outbox relay, a job worker) wakes when its rows commit
//! instead of polling for them.
//!
//! A connection of its own because a pooled one is handed to other tasks
//! between queries and would miss (or steal) the notifications. Its end is
//! reported too: a session-level lock taken on it (the relay's) ends with it.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::{Notify, oneshot};
use tokio_postgres::{AsyncMessage, Connection, NoTls, Socket, tls::NoTlsStream};
use tracing::debug;

use crate::config::SecretUrl;

/// A listening connection; dropping it closes the connection.
pub struct Listener {
    /// The session, for what must live exactly as long as it (an advisory
    /// lock); other queries go through the pool.
    pub client: tokio_postgres::Client,
    /// Notified once for each notification (or batch of them).
    pub wake: Arc<Notify>,
    /// Completes when the connection ends.
    pub lost: oneshot::Receiver<()>,
}

impl Listener {
    /// Connects to `url` as `application_name` and listens on `channel`.
    pub async fn connect(
        url: &SecretUrl,
        application_name: &str,
        channel: &str,
    ) -> Result<Listener, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(url.expose(), NoTls).await?;
        let wake = Arc::new(Notify::new());
        let (ended, lost) = oneshot::channel();
        tokio::spawn(wake_on_notifications(connection, wake.clone(), ended));
        // A quoted identifier: the channel is ours, but quoting costs nothing.
        let listen = format!("SET application_name = '{application_name}'; LISTEN \"{channel}\"");
        client.batch_execute(&listen).await?;
        Ok(Listener { client, wake, lost })
    }
}

/// Drives `connection` until it ends, waking the worker on each
/// notification; dropping `ended` then tells the worker.
async fn wake_on_notifications(
    mut connection: Connection<Socket, NoTlsStream>,
    wake: Arc<Notify>,
    ended: oneshot::Sender<()>,
) {
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notification(_)) => wake.notify_one(),
            Ok(_) => {}
            Err(error) => {
                debug!(%error, "a listening connection failed");
                break;
            }
        }
    }
    drop(ended);
}
