//! Key files read again while the server runs, so that keys rotate
//! without a restart: when a file changes (its modification time or size,
//! looked at every `--auth-key-check-interval`), and at once on SIGHUP.
//! A file that no longer reads or parses leaves the current keys in place
//! and says so in an ERROR line, then is tried again on its next change.

use std::{
    future::Future,
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime},
};

use super::Gate;
use crate::config::AuthSettings;

/// Watches the key files of one gate.
pub struct KeyWatcher {
    gate: Arc<Gate>,
    settings: AuthSettings,
    interval: Duration,
    hangups: Option<Hangups>,
}

/// What a file looked like: its modification time and size, or `None` when
/// it could not be read.
type Seen = Vec<Option<(SystemTime, u64)>>;

impl KeyWatcher {
    /// A watcher of `settings`' key files for `gate`, or `None` when
    /// authentication is off. SIGHUP is handled from now on (not from the
    /// first poll of [`Self::run`]): a signal sent as soon as the server
    /// says it serves must not meet the default action, which ends it.
    pub fn new(gate: Arc<Gate>, settings: &AuthSettings) -> Option<KeyWatcher> {
        settings.is_enabled().then(|| KeyWatcher {
            gate,
            settings: settings.clone(),
            interval: settings.auth_key_check_interval,
            hangups: hangups(),
        })
    }

    /// Reloads on every change and SIGHUP until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut hangups = self.hangups.take();
        let mut seen = self.look();
        loop {
            let hangup = async {
                match &mut hangups {
                    Some(signals) => drop(signals.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = hangup => self.reload("SIGHUP"),
                () = tokio::time::sleep(self.interval) => {
                    let now = self.look();
                    if now != seen {
                        self.reload("a key file changed");
                    }
                    seen = now;
                }
            }
        }
    }

    fn reload(&self, why: &str) {
        match self.gate.reload_keys(&self.settings) {
            Some(Ok(count)) => tracing::info!(keys = count, why, "token keys read again"),
            Some(Err(error)) => {
                tracing::error!(%error, why, "token keys could not be read again; the current keys stay")
            }
            None => {}
        }
    }

    fn look(&self) -> Seen {
        self.files()
            .iter()
            .map(|path| {
                let meta = std::fs::metadata(path).ok()?;
                Some((meta.modified().ok()?, meta.len()))
            })
            .collect()
    }

    fn files(&self) -> Vec<PathBuf> {
        let auth = &self.settings;
        let files = auth.auth_jwks.iter().chain(&auth.auth_public_key);
        files.chain(&auth.auth_hs256_secret_file).cloned().collect()
    }
}

#[cfg(unix)]
type Hangups = tokio::signal::unix::Signal;

#[cfg(unix)]
fn hangups() -> Option<Hangups> {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup()).ok()
}

/// No SIGHUP where there are no Unix signals: only the file checks.
#[cfg(not(unix))]
struct Hangups;

#[cfg(not(unix))]
impl Hangups {
    async fn recv(&mut self) -> Option<()> {
        std::future::pending().await
    }
}

#[cfg(not(unix))]
fn hangups() -> Option<Hangups> {
    None
}
