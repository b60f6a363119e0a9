//! The load balancers' own checkers accept the shipped configurations, as
//! filled in for three replicas, without a warning: `nginx -t` and
//! `haproxy -c`. The other scale-out tests run them; this says which line
//! is wrong when one stops parsing, and catches what only warns.

use std::{net::SocketAddr, time::Duration};

use tokio::process::Command;

use crate::local_machine::{fresh_dir, run, show};

use super::balancer::{Kind, render};

/// Fills in `kind`'s template for three made-up replicas and runs its
/// checker; returns everything it printed, asserting success.
async fn check(kind: Kind, args: &[&str]) -> String {
    let dir = fresh_dir("check");
    let upstreams: Vec<SocketAddr> = (1..=3).map(|i| format!("127.0.0.1:5005{i}").parse().unwrap()).collect();
    let conf = dir.join("balancer.conf");
    std::fs::write(&conf, render(kind, "127.0.0.1:8080", dir.to_str().unwrap(), &upstreams)).unwrap();
    let mut command = Command::new(kind.program().await);
    command.args(args).arg(&conf).current_dir(&dir);
    let output = run(&mut command, Duration::from_secs(30)).await;
    assert!(output.status.success(), "{kind:?}: {}", show(&output));
    show(&output)
}

#[tokio::test]
async fn nginx_accepts_the_shipped_configuration_without_warnings() {
    let printed = check(Kind::Nginx, &["-t", "-c"]).await;
    assert!(printed.contains("syntax is ok"), "{printed}");
    assert!(!printed.contains("[warn]"), "{printed}");
}

#[tokio::test]
async fn haproxy_accepts_the_shipped_configuration_without_warnings() {
    let printed = check(Kind::Haproxy, &["-c", "-f"]).await;
    assert!(printed.contains("Configuration file is valid"), "{printed}");
    assert!(!printed.contains("WARNING"), "{printed}");
}
