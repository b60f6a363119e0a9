//! The doctor's file checks: key and TLS files that are missing or broken,
//! and TLS certificates with their validity dates.

use super::{Healthy, fail, path};
use crate::local_machine::fresh_dir;

#[tokio::test]
async fn key_and_tls_files_that_are_missing_or_broken_fail_their_lines() {
    let setup = Healthy::start().await;
    let run = setup.doctor(&["--auth-jwks", "/nonexistent/jwks.json"]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let keys = run.failed("keys", "", "correct the --auth-* setting or the file it names");
    assert!(keys.contains("/nonexistent/jwks.json"), "names the file: {keys}");
    let run = setup.doctor(&["--auth-jwks-url", "http://example.com/jwks"]).await;
    let keys = run.failed("keys", "", "correct the --auth-* setting or the file it names");
    assert!(keys.contains("keys are fetched over https:// only"), "{keys}");

    let dir = fresh_dir("doctor-tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, "not a certificate\n").unwrap();
    std::fs::write(&key, "not a key\n").unwrap();
    let run = setup
        .doctor(&["--tls-cert", path(&cert), "--tls-key", path(&key)])
        .await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!(
        "--tls-cert {}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        cert.display()
    );
    assert_eq!(
        run.line("tls"),
        fail("tls", &detail, "correct the file, or the --tls-* setting")
    );
    assert_eq!(run.lines.last().unwrap(), "1 of 12 checks failed");
}

#[tokio::test]
async fn tls_files_pass_with_their_expiry_dates_and_an_expired_certificate_fails() {
    let setup = Healthy::start().await;
    let certs = crate::certs::Certs::new();
    let (cert, key, ca) = (&certs.server.cert_path, &certs.server.key_path, &certs.ca.cert_path);
    let run = setup
        .doctor(&[
            "--tls-cert",
            path(cert),
            "--tls-key",
            path(key),
            "--tls-client-ca",
            path(ca),
        ])
        .await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
    let valid = format!(
        "ok    tls               certificate and key valid; client certificates required; --tls-cert {} expires ",
        cert.display()
    );
    let tls = run.line("tls");
    assert!(tls.starts_with(&valid), "{tls}");
    assert!(
        tls.contains(&format!("; --tls-client-ca {} expires ", ca.display())),
        "{tls}"
    );

    let dir = fresh_dir("doctor-expired");
    let (expired, expired_key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let pair = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&expired, params.self_signed(&pair).unwrap().pem()).unwrap();
    std::fs::write(&expired_key, pair.serialize_pem()).unwrap();
    let run = setup
        .doctor(&["--tls-cert", path(&expired), "--tls-key", path(&expired_key)])
        .await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!("--tls-cert {} expired on 2021-01-01 00:00 UTC", expired.display());
    let fix = "renew the certificate, or correct the --tls-* setting";
    assert_eq!(run.line("tls"), fail("tls", &detail, fix));
}
