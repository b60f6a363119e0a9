//! The start-up check that a server reachable from the network is not left
//! open to anyone by mistake.

use super::StartupError;
use crate::config::Settings;

/// Refuses to serve a non-loopback address without authentication unless
/// `--insecure` says so, and warns about every weaker setup it allows.
pub fn check_exposure(settings: &Settings, authenticated: bool, tls: bool) -> Result<(), StartupError> {
    let addr = settings.addr;
    let exposed = !addr.ip().is_loopback();
    match (authenticated, exposed) {
        (false, true) if !settings.security.insecure => return Err(StartupError::Insecure(addr)),
        (false, true) => tracing::warn!(
            %addr,
            "INSECURE (--insecure): serving the network WITHOUT AUTHENTICATION; anyone who can reach \
             this port can read every order, cancel or ship it, and change the catalog"
        ),
        (false, false) => tracing::warn!(
            %addr,
            "authentication is off: every local process may call every RPC (configure --auth-* before \
             serving anything but loopback)"
        ),
        (true, true) if !tls => tracing::warn!(
            %addr,
            "bearer tokens will cross the network in clear text: configure --tls-cert/--tls-key unless \
             TLS ends in front of this server"
        ),
        (true, _) => {}
    }
    Ok(())
}
