//! The doctor's network checks: NATS that does not answer or lacks
//! JetStream, an SMTP server that does not answer, an address (gRPC or
//! metrics) in use, metrics turned off, and
//! the network served without authentication.

use super::{Healthy, doctor, fail, ok};
use crate::{local_machine::free_port, nats::PrivateNats};

#[tokio::test]
async fn nats_that_does_not_answer_or_lacks_jetstream_fails() {
    let setup = Healthy::start().await;
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let run = setup.doctor(&["--nats-url", &url]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let fix = "start NATS there, or correct --nats-url (ORDERS_NATS_URL)";
    run.failed("nats", &format!("cannot connect to NATS at {url}: "), fix);

    // The same port, now a NATS server without JetStream.
    let _plain = plain_nats_server(port).await;
    let run = setup.doctor(&["--nats-url", &url]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let fix = "enable JetStream on that server (`nats-server -js`, or `jetstream {}` in its configuration)";
    let nats = run.failed("nats", "NATS 2.", fix);
    assert!(
        nats.contains(&format!(" at {url} answers, JetStream does not: ")),
        "{nats}"
    );

    // With JetStream it passes (and nothing else failed meanwhile).
    let jetstream = PrivateNats::start().await;
    let run = setup.doctor(&["--nats-url", &jetstream.url()]).await;
    assert_eq!(run.code, Some(0), "{}", run.shown);
}

async fn plain_nats_server(port: u16) -> tokio::process::Child {
    let mut command = tokio::process::Command::new("nats-server");
    command
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .kill_on_drop(true);
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = command.spawn().expect("nats-server is installed");
    crate::timing::eventually(10, "the plain NATS answering", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
    })
    .await;
    child
}

#[tokio::test]
async fn an_smtp_server_that_does_not_answer_fails_mail() {
    let setup = Healthy::start().await;
    let url = format!("smtp://127.0.0.1:{}", free_port());
    let run = setup.doctor(&["--smtp-url", &url]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let fix = "start the mail server, or correct --smtp-url";
    run.failed("mail", &format!("SMTP at {url}: "), fix);
    assert_eq!(run.lines.last().unwrap(), "1 of 12 checks failed");
}

#[tokio::test]
async fn an_address_in_use_fails_and_serving_the_network_unauthenticated_fails() {
    let setup = Healthy::start().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let run = setup.doctor(&["--addr", &addr.to_string()]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let detail = format!("cannot listen on {addr}: Address already in use (os error 98)");
    let fix = |flag: &str| {
        format!(
            "stop what listens there (`ss -ltnp 'sport = :{}'`), or choose another {flag}",
            addr.port()
        )
    };
    // The gRPC address is --addr, or --payments-addr for the payment service alone.
    let address = fail("address", &detail, &fix("--addr / --payments-addr"));
    assert_eq!(run.line("address"), address);
    let run = setup.doctor(&["--metrics-addr", &addr.to_string()]).await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    assert_eq!(run.line("metrics"), fail("metrics", &detail, &fix("--metrics-addr")));
    let run = setup.doctor(&["--metrics-addr", ""]).await;
    assert_eq!(run.line("metrics"), ok("metrics", "off (--metrics-addr is empty)"));

    let run = doctor(
        &[("DATABASE_URL", &setup.orders.url)],
        &["doctor", "--addr", "0.0.0.0:0", "--nats-url", "nats://127.0.0.1:4222"].map(String::from),
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.shown);
    let fix = "configure --auth-jwks, --auth-public-key or --auth-hs256-secret-file, listen on a loopback \
               address, or pass --insecure to accept the risk";
    let detail = "0.0.0.0:0 is not loopback and no authentication is configured: `orders serve` refuses to start";
    assert_eq!(run.line("exposure"), fail("exposure", detail, fix));
}
