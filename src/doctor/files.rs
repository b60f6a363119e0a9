//! The files and settings `orders doctor` checks before anything on the
//! network: the token keys, the TLS files, and whether the address may be
//! served the way authentication is set up.

use super::report::Check;
use crate::{
    auth::{TokenVerifier, remote::RemoteKeys},
    config::Settings,
    startup::exposure,
    tls,
};

/// The `keys` check: every configured key file reads and parses, with the
/// issuer and audience tokens are checked against; a JWKS URL is of a
/// form the server accepts (its keys are fetched at start, not here).
pub fn keys(settings: &Settings) -> Check {
    let auth = &settings.security.auth;
    if !auth.is_enabled() {
        return Check::ok("keys", "none configured: authentication is off");
    }
    let fix = "correct the --auth-* setting or the file it names";
    let verifier = match TokenVerifier::from_settings(auth) {
        Ok(verifier) => verifier,
        Err(error) => return Check::fail("keys", error.to_string(), fix),
    };
    let fetched = match RemoteKeys::from_settings(auth) {
        Ok(remote) => remote.map(|r| format!(", plus those {} serves at start", r.url())),
        Err(error) => return Check::fail("keys", error.to_string(), fix),
    };
    Check::ok(
        "keys",
        format!(
            "{} verifying keys{}; tokens must name issuer {:?} and audience {:?}",
            verifier.map_or(0, |v| v.key_count()),
            fetched.unwrap_or_default(),
            auth.auth_issuer.as_deref().unwrap_or_default(),
            auth.auth_audience.as_deref().unwrap_or_default(),
        ),
    )
}

/// The `tls` check: the certificate, key and client CA read, parse and
/// fit, and the certificates are valid today (and say when they expire).
pub fn tls(settings: &Settings) -> Check {
    let files = &settings.security.tls;
    match tls::server_config(files) {
        Err(error) => return Check::fail("tls", error.to_string(), "correct the file, or the --tls-* setting"),
        Ok(None) => return Check::ok("tls", "off: plaintext gRPC (TLS may end in front of this server)"),
        Ok(Some(_)) => {}
    }
    let cert = files.tls_cert.as_deref().expect("TLS is on only with a certificate");
    let now = chrono::Utc::now().timestamp();
    let mut dates = vec![dated("--tls-cert", cert, now)];
    if let Some(ca) = &files.tls_client_ca {
        dates.push(dated("--tls-client-ca", ca, now));
    }
    match dates.iter().find_map(|d| d.as_ref().err()) {
        Some(problem) => Check::fail(
            "tls",
            problem.clone(),
            "renew the certificate, or correct the --tls-* setting",
        ),
        None => {
            let dates: Vec<String> = dates.into_iter().map(Result::unwrap_or_default).collect();
            let clients = match files.tls_client_ca {
                Some(_) => "; client certificates required",
                None => "",
            };
            Check::ok(
                "tls",
                format!("certificate and key valid{clients}; {}", dates.join("; ")),
            )
        }
    }
}

/// `--tls-cert /path expires 2027-01-01 (in 28 days)`, or why it is not
/// valid now.
fn dated(flag: &str, path: &std::path::Path, now: i64) -> Result<String, String> {
    let (not_before, not_after) = tls::validity(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    let day = |seconds: i64| {
        let date = chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        date.format("%Y-%m-%d %H:%M UTC").to_string()
    };
    let shown = format!("{flag} {}", path.display());
    if now < not_before {
        return Err(format!("{shown} is not valid before {}", day(not_before)));
    }
    if now > not_after {
        return Err(format!("{shown} expired on {}", day(not_after)));
    }
    Ok(format!(
        "{shown} expires {} (in {} days)",
        day(not_after),
        (not_after - now) / 86_400
    ))
}

/// The `exposure` check: the address is not served to the network without
/// authentication unless `--insecure` says so (the warning `orders serve`
/// would log is shown too).
pub fn exposure(settings: &Settings) -> Check {
    let authenticated = settings.security.auth.is_enabled();
    let encrypted = settings.security.tls.tls_cert.is_some();
    match exposure::assess(settings, authenticated, encrypted) {
        Ok(None) => Check::ok(
            "exposure",
            format!("{}: callers must authenticate", settings.listen_addr()),
        ),
        Ok(Some(warning)) => Check::ok("exposure", format!("{}: {warning}", settings.listen_addr())),
        Err(_) => Check::fail(
            "exposure",
            format!(
                "{} is not loopback and no authentication is configured: `orders serve` refuses to start",
                settings.listen_addr()
            ),
            "configure --auth-jwks, --auth-public-key or --auth-hs256-secret-file, listen on a loopback \
             address, or pass --insecure to accept the risk",
        ),
    }
}
