//! One fetch of the JWKS at `--auth-jwks-url`, as the identity provider
//! publishes it: the body and how long it may be cached.
//!
//! The URL must be `https://`, or `http://` to a loopback host only: keys
//! fetched in clear text over a network could be swapped by anyone on the
//! path, who could then sign any token. A fetch gives up after
//! [`FETCH_TIMEOUT`] and refuses bodies over [`MAX_BODY_BYTES`], so a
//! slow or hostile server cannot hold a caller or fill memory; redirects
//! are not followed (one could lead from HTTPS to plain HTTP). The client
//! is reqwest on rustls with ring, the TLS stack tonic already uses,
//! trusting the system's roots and those of `--auth-jwks-ca-file`.

use std::{net::IpAddr, time::Duration};

use bytes::{Bytes, BytesMut};
use reqwest::{Client, Url, header::CACHE_CONTROL, redirect};

use crate::config::AuthSettings;

/// The longest a fetch may take, connecting included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest JWKS accepted; a real one is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Where the keys are fetched from, and the client that fetches them.
#[derive(Debug)]
pub struct JwksUrl {
    url: Url,
    client: Client,
}

/// What one successful fetch brought.
#[derive(Debug)]
pub struct Fetched {
    pub body: Bytes,
    /// The response's `Cache-Control: max-age` (zero for `no-cache` or
    /// `no-store`), `None` when it gives none.
    pub max_age: Option<Duration>,
}

/// Why `--auth-jwks-url` cannot be used as configured; the server does not
/// start.
#[derive(Debug, thiserror::Error)]
pub enum JwksUrlError {
    #[error("--auth-jwks-url {url:?} is not a URL: {problem}")]
    NotAUrl { url: String, problem: String },
    #[error(
        "--auth-jwks-url {0}: keys are fetched over https:// only (plain http:// is allowed to a loopback \
         host alone: 127.0.0.0/8, ::1, localhost), since anyone on the path could swap keys sent in clear text"
    )]
    NotHttps(Url),
    #[error("--auth-jwks-ca-file {path}: {problem}")]
    CaFile { path: String, problem: String },
    #[error(
        "--auth-jwks-refresh-min ({}) must be more than zero and at most --auth-jwks-refresh-max ({})",
        humantime::format_duration(*min),
        humantime::format_duration(*max)
    )]
    RefreshBounds { min: Duration, max: Duration },
    #[error("could not set up the client for --auth-jwks-url: {0}")]
    Client(String),
}

/// Why one fetch failed; the last good keys stay.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("could not fetch {url}: {problem}")]
    Unreachable { url: Url, problem: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: Url, status: u16 },
    #[error("{url} sent more than {MAX_BODY_BYTES} bytes")]
    TooLarge { url: Url },
    #[error("{0}")]
    Keys(#[from] super::keys::KeyError),
}

impl JwksUrl {
    /// The URL the settings name, checked, with its client; `None` when
    /// none is configured.
    pub fn from_settings(settings: &AuthSettings) -> Result<Option<JwksUrl>, JwksUrlError> {
        let Some(text) = &settings.auth_jwks_url else {
            return Ok(None);
        };
        let url = checked_url(text)?;
        let mut client = Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(redirect::Policy::none())
            .user_agent(concat!("orders/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.auth_jwks_ca_file {
            for certificate in ca_file(path)? {
                client = client.add_root_certificate(certificate);
            }
        }
        let client = client.build().map_err(|e| JwksUrlError::Client(chain(e)))?;
        Ok(Some(JwksUrl { url, client }))
    }

    /// The URL, for logs.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Fetches the JWKS once.
    pub async fn fetch(&self) -> Result<Fetched, FetchError> {
        let unreachable = |e: reqwest::Error| FetchError::Unreachable {
            url: self.url.clone(),
            problem: chain(e),
        };
        let mut response = self.client.get(self.url.clone()).send().await.map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            let url = self.url.clone();
            return Err(FetchError::Status {
                url,
                status: status.as_u16(),
            });
        }
        let max_age = response
            .headers()
            .get_all(CACHE_CONTROL)
            .iter()
            .find_map(|value| value.to_str().ok().and_then(max_age));
        let mut body = BytesMut::new();
        // Read chunk by chunk, so an endless body stops at the limit; the
        // client's timeout covers the body too.
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FetchError::TooLarge { url: self.url.clone() });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body: body.freeze(),
            max_age,
        })
    }
}

/// `text` as a URL that may be fetched: `https://`, or `http://` to a
/// loopback host.
fn checked_url(text: &str) -> Result<Url, JwksUrlError> {
    let url = Url::parse(text).map_err(|e| JwksUrlError::NotAUrl {
        url: text.to_owned(),
        problem: e.to_string(),
    })?;
    // The parser has lower-cased a name and put an IPv6 address in brackets.
    let host = url.host_str().unwrap_or_default();
    let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>();
    let loopback = host == "localhost" || ip.is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(JwksUrlError::NotHttps(url)),
    }
}

fn ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, JwksUrlError> {
    let problem = |problem: String| JwksUrlError::CaFile {
        path: path.display().to_string(),
        problem,
    };
    let pem = std::fs::read(path).map_err(|e| problem(format!("could not read it: {e}")))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| problem(chain(e)))?;
    if certificates.is_empty() {
        return Err(problem("holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}

/// The `max-age` of one `Cache-Control` value; `no-cache` and `no-store`
/// count as zero (fetch again as soon as allowed).
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|directive| {
        let directive = directive.trim();
        if directive.eq_ignore_ascii_case("no-cache") || directive.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        let (name, seconds) = directive.split_once('=')?;
        let seconds = seconds.trim().trim_matches('"');
        (name.trim().eq_ignore_ascii_case("max-age")).then(|| seconds.parse().ok().map(Duration::from_secs))?
    })
}

/// An error and its causes, for one log line: reqwest's own message alone
/// says "error sending request" and hides "connection refused". The URL is
/// named by the caller, so reqwest's copy is left out.
fn chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        for ok in [
            "https://id.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks",
            "http://127.1.2.3/jwks",
            "http://[::1]:80/jwks",
            "http://localhost/jwks",
            "http://LOCALHOST:9/jwks",
        ] {
            assert!(checked_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://example.com/jwks",
            "http://10.0.0.1/jwks",
            "http://localhost.example.com/jwks",
            "ftp://127.0.0.1/jwks",
            "file:///etc/jwks.json",
        ] {
            assert!(
                matches!(checked_url(refused), Err(JwksUrlError::NotHttps(_))),
                "{refused}"
            );
        }
        assert!(matches!(checked_url("jwks.json"), Err(JwksUrlError::NotAUrl { .. })));
    }

    /// A URL on 127.0.0.1 whose first request is answered with `response`.
    async fn answering_once(response: Vec<u8>) -> JwksUrl {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = stream.read(&mut [0; 4096]).await;
            let _ = stream.write_all(&response).await;
        });
        let mut settings = crate::config::Settings::defaults().security.auth;
        settings.auth_jwks_url = Some(format!("http://{addr}/jwks.json"));
        JwksUrl::from_settings(&settings).unwrap().unwrap()
    }

    #[tokio::test]
    async fn an_http_error_or_a_body_over_the_limit_is_a_failed_fetch() {
        let error = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n".to_vec();
        let failed = answering_once(error).await.fetch().await.unwrap_err();
        assert!(matches!(failed, FetchError::Status { status: 503, .. }), "{failed}");
        let mut huge = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
        huge.resize(huge.len() + MAX_BODY_BYTES + 1, b' ');
        let failed = answering_once(huge).await.fetch().await.unwrap_err();
        assert!(matches!(failed, FetchError::TooLarge { .. }), "{failed}");
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(
            max_age("Max-Age=\"60\", must-revalidate"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
