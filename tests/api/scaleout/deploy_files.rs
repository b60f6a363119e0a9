//! The files under deploy/ for running replicas are valid. The load
//! balancers' own checkers accept the shipped configurations, as filled in
//! for three replicas, without a warning (`nginx -t`, `haproxy -c`; the
//! other scale-out tests run them, this names the line when one stops
//! parsing and catches what only warns). The Kubernetes manifests
//! (deploy/k8s) are valid for the API they name, checked by
//! `kubernetes-validate` (from PyPI, in the project's virtualenv, with the
//! Kubernetes OpenAPI schemas bundled) in strict mode, and agree with the
//! service: the probes use gRPC health on the gRPC port, the grace period
//! outlasts the preStop pause plus the drain, and the Services and the
//! autoscaler point at the Deployment's pods.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde_norway::Value;
use tokio::process::Command;

use crate::local_machine::{fresh_dir, python_venv, repo, run, show};

use super::balancer::{Kind, render};

/// The oldest release the manifests are for: the preStop `sleep` action
/// is on by default from 1.30 (native gRPC probes from 1.24).
const KUBERNETES: &str = "1.30.0";
const MANIFESTS: [&str; 3] = ["deployment.yaml", "service.yaml", "hpa.yaml"];

fn manifest(name: &str) -> PathBuf {
    repo().join("deploy/k8s").join(name)
}

async fn validate(files: &[PathBuf]) -> std::process::Output {
    let validator = python_venv().await.join("bin/kubernetes-validate");
    let mut command = Command::new(validator);
    command
        .args(["--strict", "--kubernetes-version", KUBERNETES])
        .args(files);
    run(&mut command, Duration::from_secs(120)).await
}

#[tokio::test]
async fn the_manifests_validate_against_the_kubernetes_schemas() {
    let files: Vec<PathBuf> = MANIFESTS.iter().map(|m| manifest(m)).collect();
    let output = validate(&files).await;
    assert!(output.status.success(), "{}", show(&output));
    let passed = String::from_utf8_lossy(&output.stdout)
        .matches(" passed for resource ")
        .count()
        + String::from_utf8_lossy(&output.stderr)
            .matches(" passed for resource ")
            .count();
    // A Deployment, two Services, a HorizontalPodAutoscaler.
    assert_eq!(passed, 4, "{}", show(&output));

    // And the validator does look: a probe's port as a name is refused.
    let dir = fresh_dir("k8s");
    let text = std::fs::read_to_string(manifest("deployment.yaml")).unwrap();
    std::fs::write(
        dir.join("deployment.yaml"),
        text.replacen("port: 50051", "port: grpc", 1),
    )
    .unwrap();
    let refused = validate(&[dir.join("deployment.yaml")]).await;
    assert!(!refused.status.success(), "{}", show(&refused));
    let why = "readinessProbe.grpc.port: 'grpc' is not of type 'integer'";
    assert!(show(&refused).contains(why), "{}", show(&refused));
    std::fs::remove_dir_all(dir).unwrap();
}

fn read(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(manifest(name)).unwrap();
    (serde_norway::Deserializer::from_str(&text))
        .map(|document| serde::Deserialize::deserialize(document).unwrap())
        .collect()
}

/// The seconds of a `--drain-timeout=Ns` among the container's args.
fn drain_seconds(args: &Value) -> u64 {
    let args = args.as_sequence().unwrap().iter().filter_map(Value::as_str);
    let drain = args
        .filter_map(|a| a.strip_prefix("--drain-timeout="))
        .next()
        .expect("--drain-timeout");
    drain.strip_suffix('s').unwrap().parse().unwrap()
}

#[test]
fn the_manifests_agree_with_the_service_and_each_other() {
    let deployment = &read("deployment.yaml")[0];
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        assert_eq!(
            container[probe]["grpc"]["port"], container["ports"][0]["containerPort"],
            "{probe}"
        );
    }
    let pause = container["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().unwrap();
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(grace > pause + drain_seconds(&container["args"]), "grace {grace} s");

    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], labels);
    for service in read("service.yaml") {
        assert_eq!(&service["spec"]["selector"], labels);
        assert_eq!(service["spec"]["ports"][0]["targetPort"], container["ports"][0]["name"]);
    }
    let hpa = &read("hpa.yaml")[0];
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], deployment["metadata"]["name"]);
    assert!(
        container["resources"]["requests"]["cpu"].is_string(),
        "the HPA scales on it"
    );
}

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
    std::fs::remove_dir_all(dir).unwrap();
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
