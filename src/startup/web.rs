//! The web pages of a process: where they are served (`--web-addr`, with
//! `auto` resolved here), how they sign people in, and which browser
//! origins may call the gRPC port with gRPC-Web (the configured ones and
//! the pages' own).

use std::net::SocketAddr;

use super::StartupError;
use crate::{
    config::{ServiceName, Settings, WebAddr, WebOrigin},
    web::{GrpcPort, WebPages, sign_in::SignIn},
};

/// Binds the pages' address, or gives `None` when they are off. `grpc` is
/// the bound gRPC address the pages call.
pub(super) async fn bind(settings: &Settings, grpc: SocketAddr) -> Result<Option<WebPages>, StartupError> {
    let (addr, auto) = match settings.web.web_addr {
        WebAddr::Off => return Ok(None),
        WebAddr::Auto if !zero_configuration(settings) => return Ok(None),
        WebAddr::Auto => (WebAddr::AUTO_ADDR.parse().expect("a valid address"), true),
        WebAddr::At(addr) => (addr, false),
    };
    if !settings.runs(ServiceName::Orders) {
        return Err(StartupError::Web(
            "--web-addr: the pages call the orders service, which this process does not run (--services)".into(),
        ));
    }
    let grpc = GrpcPort {
        port: grpc.port(),
        tls: settings.security.tls.tls_cert.is_some(),
    };
    let pages = match WebPages::bind(addr, grpc, sign_in(settings, addr)).await {
        Ok(pages) => pages,
        // The automatic pages are a convenience: a busy port must not stop
        // the backend from starting.
        Err(error) if auto => {
            tracing::warn!(%addr, %error, "web pages off: their address is taken; set --web-addr to serve them elsewhere");
            return Ok(None);
        }
        Err(source) => return Err(StartupError::Bind { addr, source }),
    };
    tracing::info!(url = %format!("http://{}/", pages.local_addr()), "serving the web pages");
    Ok(Some(pages))
}

/// `orders` started with nothing configured, on one machine: no database
/// named, gRPC on loopback, the orders service in this process.
fn zero_configuration(settings: &Settings) -> bool {
    settings.database.database_url.is_none()
        && settings.listen_addr().ip().is_loopback()
        && settings.runs(ServiceName::Orders)
}

/// The development sign-in mints tokens for anyone who can reach the pages:
/// only on loopback, unless --insecure says otherwise.
fn sign_in(settings: &Settings, addr: SocketAddr) -> SignIn {
    let auth = &settings.security.auth;
    let sign_in = SignIn::from_settings(auth, auth.is_enabled());
    if matches!(sign_in, SignIn::Development(_)) && !addr.ip().is_loopback() && !settings.security.insecure {
        tracing::warn!(
            %addr,
            "web pages: no development sign-in on a non-loopback address (it would mint tokens for anyone \
             who can reach it); pass --insecure to allow it"
        );
        return SignIn::Required;
    }
    sign_in
}

/// The origins whose pages may call the gRPC port: `--web-allowed-origins`
/// and, when this process serves the pages, theirs (under each name a
/// browser on this machine may use for a loopback address).
pub(super) fn allowed_origins(settings: &Settings, pages: Option<SocketAddr>) -> Vec<WebOrigin> {
    let mut origins = settings.web.web_allowed_origins.clone();
    if let Some(addr) = pages {
        match addr.ip() {
            ip if ip.is_unspecified() => tracing::info!(
                %addr,
                "web pages on every interface: list the names browsers use for them in --web-allowed-origins"
            ),
            ip if ip.is_loopback() => {
                let port = addr.port();
                let names = ["127.0.0.1", "localhost", "[::1]"];
                origins.extend(names.map(|name| format!("http://{name}:{port}").parse().expect("an origin")));
            }
            _ => origins.push(WebOrigin::http(addr)),
        }
    }
    origins
}
