//! The gRPC service config in the README ("Retries: a gRPC service
//! config") is one clients can load and is right about this API: it parses,
//! names every method exactly once, retries only the codes the README calls
//! safe, and keeps the methods whose requests carry a `request_id` (safe to
//! retry only with one) apart from the idempotent ones.

use std::collections::BTreeSet;

use orders::proto::method::Method;
use serde_json::Value;

use crate::local_machine::repo;

const START: &str = "<!-- service-config:start -->";
const END: &str = "<!-- service-config:end -->";

/// The JSON between the README's markers.
fn readme_service_config() -> Value {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find(START).expect("README has the service config") + START.len();
    let end = readme[start..].find(END).expect("the service config ends") + start;
    let block = readme[start..end].trim();
    let json = block.strip_prefix("```json").and_then(|b| b.strip_suffix("```"));
    serde_json::from_str(json.expect("a json block")).expect("the service config is JSON")
}

/// The gRPC paths a `methodConfig` entry names.
fn paths(entry: &Value) -> BTreeSet<String> {
    let names = entry["name"].as_array().unwrap().iter();
    names
        .map(|n| format!("/{}/{}", n["service"].as_str().unwrap(), n["method"].as_str().unwrap()))
        .collect()
}

/// The methods whose request message has a `request_id` field, read from
/// proto/orders/v1.
fn methods_with_a_request_id() -> BTreeSet<String> {
    let protos = ["orders", "catalog", "audit"]
        .map(|name| std::fs::read_to_string(repo().join(format!("proto/orders/v1/{name}.proto"))).unwrap());
    let text = protos.concat();
    let keyed = |method: &str| {
        let start = text
            .find(&format!("message {method}Request {{"))
            .expect("the request message");
        let body = &text[start..start + text[start..].find("\n}").unwrap()];
        body.contains(" request_id = ")
    };
    (Method::ALL.iter())
        .filter(|m| keyed(m.name()))
        .map(|m| m.path().to_owned())
        .collect()
}

#[test]
fn the_readme_service_config_retries_safely_and_names_every_method_once() {
    let config = readme_service_config();
    let entries = config["methodConfig"].as_array().unwrap();
    let named: Vec<BTreeSet<String>> = entries.iter().map(paths).collect();
    let all: BTreeSet<String> = Method::ALL.iter().map(|m| m.path().to_owned()).collect();
    assert_eq!(named.iter().map(BTreeSet::len).sum::<usize>(), all.len(), "each once");
    assert_eq!(named.iter().flatten().cloned().collect::<BTreeSet<_>>(), all);
    assert_eq!(
        named[1],
        methods_with_a_request_id(),
        "the second entry: writes with a request_id"
    );

    let safe = ["UNAVAILABLE", "ABORTED", "DEADLINE_EXCEEDED"];
    for entry in entries {
        let policy = &entry["retryPolicy"];
        let codes: Vec<&str> = (policy["retryableStatusCodes"].as_array().unwrap().iter())
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(
            codes.contains(&"UNAVAILABLE") && codes.iter().all(|c| safe.contains(c)),
            "{codes:?}"
        );
        // gRPC caps attempts at 5; a retry needs at least 2.
        assert!((2..=5).contains(&policy["maxAttempts"].as_u64().unwrap()));
    }
}
