//! Settings for browsers: where the storefront and warehouse pages are
//! served, and which other web origins may call the API with gRPC-Web.

use std::{fmt, net::SocketAddr, str::FromStr};

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct WebSettings {
    /// Address of the web pages (the storefront at `/`, the warehouse at
    /// `/warehouse`), which call this process's gRPC port with gRPC-Web.
    /// `auto` (the default) serves them on 127.0.0.1:8080 in the
    /// zero-configuration start (no DATABASE_URL, gRPC on loopback, the
    /// orders service in this process) and nowhere otherwise; an empty
    /// value turns them off; an address turns them on there.
    #[arg(long, env = "ORDERS_WEB_ADDR", default_value = "auto", global = true)]
    pub web_addr: WebAddr,

    /// Web origins (`scheme://host[:port]`, comma-separated) whose pages may
    /// call the API from a browser with gRPC-Web (CORS). The pages of
    /// --web-addr are always allowed; no other origin is by default.
    #[arg(long, env = "ORDERS_WEB_ALLOWED_ORIGINS", value_delimiter = ',', global = true)]
    pub web_allowed_origins: Vec<WebOrigin>,
}

/// Where to serve the web pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebAddr {
    /// On the default address in the zero-configuration start only.
    Auto,
    Off,
    At(SocketAddr),
}

impl WebAddr {
    /// Where `auto` serves the pages.
    pub const AUTO_ADDR: &str = "127.0.0.1:8080";
}

impl FromStr for WebAddr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "" => Ok(WebAddr::Off),
            "auto" => Ok(WebAddr::Auto),
            text => text.parse().map(WebAddr::At).map_err(|_| {
                format!("{text:?} is not an address: use IP:PORT such as 127.0.0.1:8080, `auto`, or empty for none")
            }),
        }
    }
}

impl fmt::Display for WebAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebAddr::Auto => f.write_str("auto"),
            WebAddr::Off => Ok(()),
            WebAddr::At(addr) => write!(f, "{addr}"),
        }
    }
}

/// A web origin as browsers send it in the `Origin` header: a scheme
/// (`http` or `https`), a host and an optional port, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebOrigin(String);

impl WebOrigin {
    /// The origin of pages served at `addr` over plain HTTP.
    pub fn http(addr: SocketAddr) -> WebOrigin {
        WebOrigin(format!("http://{addr}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for WebOrigin {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let explain =
            |why: &str| format!("{text:?} is not a web origin ({why}); write it as https://shop.example.com[:port]");
        if text == "*" {
            return Err(explain(
                "a wildcard would let every web page call the API; list the origins",
            ));
        }
        let (scheme, rest) = text.split_once("://").ok_or_else(|| explain("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(explain("the scheme must be http or https"));
        }
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return Err(explain(
                "an origin is a scheme, a host and a port: no path, query or user",
            ));
        }
        // Browsers send the host in lower case and without a default port.
        let rest = rest.to_ascii_lowercase();
        let default_port = if scheme == "http" { ":80" } else { ":443" };
        let host = rest.strip_suffix(default_port).unwrap_or(&rest);
        Ok(WebOrigin(format!("{scheme}://{host}")))
    }
}

impl fmt::Display for WebOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        let origin: WebOrigin = "HTTPS://Shop.Example.com:443".parse().unwrap();
        assert_eq!(origin.as_str(), "https://shop.example.com");
        let origin: WebOrigin = "http://localhost:5173".parse().unwrap();
        assert_eq!(origin.as_str(), "http://localhost:5173");
    }

    #[test]
    fn anything_but_an_origin_is_refused_with_the_reason() {
        for (text, why) in [
            ("*", "wildcard"),
            ("shop.example.com", "no scheme"),
            ("ftp://shop.example.com", "http or https"),
            ("https://shop.example.com/", "no path"),
            ("https://", "no path"),
        ] {
            let error = text.parse::<WebOrigin>().unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn the_web_address_is_auto_off_or_an_address() {
        assert_eq!("auto".parse::<WebAddr>(), Ok(WebAddr::Auto));
        assert_eq!(" ".parse::<WebAddr>(), Ok(WebAddr::Off));
        assert_eq!(
            "127.0.0.1:0".parse::<WebAddr>(),
            Ok(WebAddr::At("127.0.0.1:0".parse().unwrap()))
        );
        assert!("8080".parse::<WebAddr>().unwrap_err().contains("not an address"));
    }
}
