//! The network side of `orders doctor`: the listening address, NATS with
//! JetStream, and where emails go.

use std::{net::SocketAddr, path::Path, time::Duration};

use super::report::Check;
use crate::{
    config::{SecretUrl, ServiceName, Settings},
    events::launcher::{LocalNats, store_dir},
    notifications,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The `address` check: `--addr` can be listened on now.
pub async fn address(settings: &Settings) -> Check {
    listens("address", settings.listen_addr(), "--addr / --payments-addr").await
}

/// The `metrics` check: `--metrics-addr` can be listened on now, or is off.
pub async fn metrics(settings: &Settings) -> Check {
    match settings.metrics.metrics_addr.0 {
        Some(addr) => listens("metrics", addr, "--metrics-addr").await,
        None => Check::ok("metrics", "off (--metrics-addr is empty)"),
    }
}

/// Check `name`: `addr` (set by `flag`) can be listened on now.
async fn listens(name: &'static str, addr: SocketAddr, flag: &str) -> Check {
    if addr.port() == 0 {
        return Check::ok(name, format!("{addr}: a free port is picked at start"));
    }
    match tokio::net::TcpListener::bind(addr).await {
        Ok(_listener) => Check::ok(name, format!("{addr} is free")),
        Err(error) => Check::fail(
            name,
            format!("cannot listen on {addr}: {error}"),
            format!(
                "stop what listens there (`ss -ltnp 'sport = :{}'`), or choose another {flag}",
                addr.port()
            ),
        ),
    }
}

/// The `nats` check, when a service of this process uses events: the
/// configured server (or the local one `orders serve` would use) answers
/// and has JetStream.
pub async fn nats(settings: &Settings, data_dir: &Path) -> Check {
    let relays = settings.runs(ServiceName::Orders) && settings.events.outbox_relay;
    if !relays && !settings.runs(ServiceName::Notifications) {
        return Check::ok("nats", "not used: no service here publishes or consumes events");
    }
    let url = match &settings.events.nats_url {
        Some(url) => url.clone(),
        None => {
            let local = LocalNats::default();
            match local.running_url().await {
                Some(url) => url.into(),
                None if local.program_installed() => {
                    let store = store_dir(data_dir);
                    let detail = format!(
                        "none runs here; `orders serve` starts a private nats-server with its store in {}",
                        store.display()
                    );
                    return Check::ok("nats", detail);
                }
                None => {
                    let fix = "set --nats-url (ORDERS_NATS_URL), or install NATS (e.g. `apt-get install nats-server`)";
                    return Check::fail("nats", local.not_installed().to_string(), fix);
                }
            }
        }
    };
    jetstream_answers(&url).await
}

async fn jetstream_answers(url: &SecretUrl) -> Check {
    let shown = url.redacted();
    let options = async_nats::ConnectOptions::new()
        .name("orders doctor")
        .connection_timeout(CONNECT_TIMEOUT)
        .request_timeout(Some(CONNECT_TIMEOUT));
    let connected = match tokio::time::timeout(CONNECT_TIMEOUT * 2, options.connect(url.expose())).await {
        Ok(connected) => connected.map_err(|error| error.to_string()),
        Err(_) => Err("no answer".to_owned()),
    };
    let client = match connected {
        Ok(client) => client,
        Err(problem) => {
            let detail = format!("cannot connect to NATS at {shown}: {problem}");
            let fix = "start NATS there, or correct --nats-url (ORDERS_NATS_URL)";
            return Check::fail("nats", detail, fix);
        }
    };
    let version = client.server_info().version;
    match jetstream_streams(&client).await {
        Ok(streams) => Check::ok(
            "nats",
            format!("NATS {version} at {shown}, JetStream on ({streams} streams)"),
        ),
        Err(problem) => Check::fail(
            "nats",
            format!("NATS {version} at {shown} answers, JetStream does not: {problem}"),
            "enable JetStream on that server (`nats-server -js`, or `jetstream {}` in its configuration)",
        ),
    }
}

/// Asks JetStream's account API how many streams there are. Raw JSON, not
/// the client's typed `query_account`, which fails to read the answers of
/// servers older than itself (2.9 lacks fields it requires).
async fn jetstream_streams(client: &async_nats::Client) -> Result<u64, String> {
    let answer = client
        .request("$JS.API.INFO", "".into())
        .await
        .map_err(|e| e.to_string())?;
    let info: serde_json::Value = serde_json::from_slice(&answer.payload).map_err(|e| e.to_string())?;
    if let Some(error) = info.get("error") {
        return Err(error["description"].as_str().unwrap_or("an error").to_owned());
    }
    info["streams"]
        .as_u64()
        .ok_or_else(|| format!("an unexpected answer: {info}"))
}

/// The `mail` check, when this process runs the notifications service:
/// the SMTP server answers, or the mail folder can be written.
pub async fn mail(settings: &Settings, data_dir: &Path) -> Check {
    let configured = settings.notifications.smtp_url.as_ref();
    let mailer = match notifications::mailer(settings, data_dir) {
        Ok(mailer) => mailer,
        Err(error) => return Check::fail("mail", error.to_string(), "correct --smtp-url or --mail-dir"),
    };
    let (shown, fix) = match configured {
        Some(url) => (
            format!("SMTP at {}", url.redacted()),
            "start the mail server, or correct --smtp-url",
        ),
        None => (
            mailer.describe(),
            "make the folder writable, or choose another --mail-dir",
        ),
    };
    match mailer.check().await {
        Ok(()) if configured.is_some() => Check::ok("mail", format!("{shown} answers")),
        Ok(()) => Check::ok("mail", format!("no --smtp-url: emails are written as {shown}")),
        Err(error) => Check::fail("mail", format!("{shown}: {error}"), fix),
    }
}
