//! The gRPC service config in the README ("Retries: a gRPC service
//! config") is one clients can load and is right about this API: it parses,
//! names every method exactly once, retries only the codes the README calls
//! safe, and keeps the methods whose requests carry a `request_id` (safe to
//! retry only with one) apart from the idempotent ones.

use std::collections::BTreeSet;

use orders::proto::method::Method;
use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorSet};
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
/// the descriptors compiled from `proto/` (every package of the API).
fn methods_with_a_request_id() -> BTreeSet<String> {
    let set = FileDescriptorSet::decode(orders::proto::FILE_DESCRIPTOR_SET).expect("the descriptor set decodes");
    let messages: Vec<(String, &DescriptorProto)> = (set.file.iter())
        .flat_map(|file| (file.message_type.iter()).map(move |m| (format!(".{}.{}", file.package(), m.name()), m)))
        .collect();
    let keyed = |input_type: &str| {
        let (_, message) = (messages.iter().find(|(name, _)| name == input_type))
            .unwrap_or_else(|| panic!("the request message {input_type}"));
        message.field.iter().any(|field| field.name() == "request_id")
    };
    let inputs: BTreeSet<String> = (set.file.iter())
        .flat_map(|file| file.service.iter().map(move |service| (file.package(), service)))
        .flat_map(|(package, service)| {
            (service.method.iter())
                .filter(|m| keyed(m.input_type()))
                .map(move |m| format!("/{package}.{}/{}", service.name(), m.name()))
        })
        .collect();
    (Method::ALL.iter())
        .map(|m| m.path().to_owned())
        .filter(|path| inputs.contains(path))
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
