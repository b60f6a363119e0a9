//! The start-up check that a server reachable from the network is not left
//! open to anyone by mistake.

use super::StartupError;
use crate::config::Settings;

/// Refuses to serve a non-loopback address without authentication unless
/// `--insecure` says so, and warns about every weaker setup it allows.
pub fn check_exposure(settings: &Settings, authenticated: bool, tls: bool) -> Result<(), StartupError> {
    if let Some(warning) = assess(settings, authenticated, tls)? {
        let addr = settings.listen_addr();
        tracing::warn!(%addr, "{warning}");
    }
    Ok(())
}

/// What [`check_exposure`] decides, without logging: an error when the
/// server must not start, else the warning it gives, if any.
pub fn assess(settings: &Settings, authenticated: bool, tls: bool) -> Result<Option<&'static str>, StartupError> {
    let addr = settings.listen_addr();
    let exposed = !addr.ip().is_loopback();
    Ok(match (authenticated, exposed) {
        (false, true) if !settings.security.insecure => return Err(StartupError::Insecure(addr)),
        (false, true) => Some(
            "INSECURE (--insecure): serving the network WITHOUT AUTHENTICATION; anyone who can reach \
             this port can read every order, cancel or ship it, and change the catalog",
        ),
        (false, false) => Some(
            "authentication is off: every local process may call every RPC (configure --auth-* before \
             serving anything but loopback)",
        ),
        (true, true) if !tls => Some(
            "bearer tokens will cross the network in clear text: configure --tls-cert/--tls-key unless \
             TLS ends in front of this server",
        ),
        (true, _) => None,
    })
}
