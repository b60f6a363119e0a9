//! The alerting rules, their unit tests and the Grafana dashboard in
//! `deploy/` (see deploy/README.md): promtool accepts the rules and the
//! Prometheus config and passes the rules' unit tests; every metric the
//! rules and the dashboard's queries use is a row of the README's metrics
//! table, the contract the server implements, with labels from that row, so
//! neither can drift from what the server serves; every alert has its
//! runbook section, a test where it fires and one where it must not; and
//! the dashboard's JSON is what `scripts/grafana-dashboard` writes, with
//! every query valid PromQL.
//!
//! promtool comes from `scripts/install-promtool` (on PATH, or Debian's
//! `prometheus` package installed), run once per test binary; where it
//! cannot be had, these tests fail with the script's message, never skip.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use tokio::process::Command;

use crate::local_machine::{fresh_dir, path_printed_by, repo, run_to_success};

const RULES: &str = "deploy/prometheus/alerts.yml";
const RULE_TESTS: &str = "deploy/prometheus/alerts_test.yml";
const PROMETHEUS_CONFIG: &str = "deploy/prometheus/prometheus.yml";
const DASHBOARD: &str = "deploy/grafana/orders.json";
const RUNBOOKS: &str = "deploy/README.md";

/// Generous: a cold install downloads about 20 MB of Debian packages.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
const PROMTOOL_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn promtool_accepts_the_rules_and_the_config() {
    promtool_succeeds(&["check", "rules", RULES]).await;
    // Loads alerts.yml too, by its path relative to the config.
    promtool_succeeds(&["check", "config", PROMETHEUS_CONFIG]).await;
}

#[tokio::test]
async fn promtool_unit_tests_of_the_rules_pass() {
    promtool_succeeds(&["test", "rules", RULE_TESTS]).await;
}

#[tokio::test]
async fn every_dashboard_query_is_valid_promql() {
    // Grafana's variables stand for a duration or a regex; what is left must
    // parse. promtool parses rule files, so each query becomes a recording
    // rule (in JSON, which is YAML too).
    let rules: Vec<serde_json::Value> = dashboard_queries()
        .iter()
        .enumerate()
        .map(|(i, (_, expr))| {
            serde_json::json!({ "record": format!("dashboard:query_{i}"), "expr": without_grafana_variables(expr) })
        })
        .collect();
    let file = fresh_dir("dashboard-promql").join("dashboard_queries.yml");
    let groups = serde_json::json!({ "groups": [{ "name": "dashboard", "rules": rules }] });
    std::fs::write(&file, groups.to_string()).unwrap();
    promtool_succeeds(&["check", "rules", file.to_str().unwrap()]).await;
}

#[tokio::test]
async fn the_dashboard_is_what_its_generator_writes() {
    let mut check = Command::new("python3");
    check.arg(repo().join("scripts/grafana-dashboard")).arg("--check");
    run_to_success(&mut check, PROMTOOL_TIMEOUT, "scripts/grafana-dashboard --check").await;
}

#[test]
fn the_rules_and_the_dashboard_use_only_the_readme_metrics() {
    let contract = readme_metrics();
    let rules = rules();
    let recorded: BTreeSet<String> = rules.iter().filter_map(|r| r.record.clone()).collect();
    let mut queries: Vec<(String, String)> = rules.iter().map(|r| (r.name().to_owned(), r.expr.clone())).collect();
    queries.extend(dashboard_queries());

    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (place, expr) in &queries {
        for selector in selectors(expr) {
            if recorded.contains(&selector.name) {
                continue;
            }
            match contract.lookup(&selector.name) {
                None => problems.push(format!(
                    "{place}: `{}` is not in the README's metrics table",
                    selector.name
                )),
                Some((metric, labels)) => {
                    used.insert(metric.to_owned());
                    for label in selector.labels.iter().filter(|l| !labels.contains(l.as_str())) {
                        problems.push(format!(
                            "{place}: `{}` has no label `{label}` (the table: {labels:?})",
                            selector.name
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check itself works: it saw the metrics of every part of the
    // backend (an extractor that found nothing would pass the loop above).
    for metric in [
        "grpc_server_handled_total",
        "grpc_server_handling_seconds",
        "orders_outbox_oldest_pending_age_seconds",
        "orders_jobs_finished_total",
        "orders_payments_total",
        "orders_db_statement_seconds",
        "orders_build_info",
        "up",
    ] {
        assert!(used.contains(metric), "no query uses {metric}: {used:?}");
    }
}

#[test]
fn every_alert_has_severity_runbook_and_tests_that_fire_and_do_not() {
    let runbook_anchors = markdown_anchors(&std::fs::read_to_string(repo().join(RUNBOOKS)).unwrap());
    let tests: RuleTests = read_yaml(RULE_TESTS);
    let cases: Vec<&AlertTest> = tests.tests.iter().flat_map(|t| &t.alert_rule_test).collect();
    let alerts: Vec<Rule> = rules().into_iter().filter(|r| r.alert.is_some()).collect();
    assert!(alerts.len() >= 9, "only {} alerts in {RULES}", alerts.len());

    let mut problems = Vec::new();
    for alert in &alerts {
        let name = alert.name();
        if !matches!(
            alert.labels.get("severity").map(String::as_str),
            Some("page" | "ticket")
        ) {
            problems.push(format!(
                "{name}: severity is {:?}, not page or ticket",
                alert.labels.get("severity")
            ));
        }
        if alert.for_.is_none() {
            problems.push(format!("{name}: no `for:`"));
        }
        for key in ["summary", "description", "runbook"] {
            if alert.annotations.get(key).is_none_or(|v| v.trim().is_empty()) {
                problems.push(format!("{name}: no {key} annotation"));
            }
        }
        let runbook = alert.annotations.get("runbook").map(String::as_str).unwrap_or("");
        match runbook.split_once(&format!("{RUNBOOKS}#")) {
            None => problems.push(format!("{name}: the runbook does not point at {RUNBOOKS}#<section>")),
            Some((_, rest)) => {
                let anchor: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                if !runbook_anchors.contains(&anchor) {
                    problems.push(format!("{name}: {RUNBOOKS} has no section #{anchor}"));
                }
            }
        }
        let own: Vec<_> = cases.iter().filter(|c| c.alertname == name).collect();
        if !own.iter().any(|c| !c.exp_alerts.is_empty()) {
            problems.push(format!("{name}: no case in {RULE_TESTS} where it fires"));
        }
        if !own.iter().any(|c| c.exp_alerts.is_empty()) {
            problems.push(format!("{name}: no case in {RULE_TESTS} where it must not fire"));
        }
    }
    for case in &cases {
        if !alerts.iter().any(|a| a.name() == case.alertname) {
            problems.push(format!(
                "{RULE_TESTS} tests {}, which {RULES} does not define",
                case.alertname
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The extractor finds the metrics of a selector wherever PromQL puts them,
/// and nothing else.
#[test]
fn selectors_are_told_from_functions_labels_and_strings() {
    let found = |expr: &str| -> Vec<(String, Vec<String>)> {
        selectors(expr)
            .into_iter()
            .map(|s| (s.name, s.labels.into_iter().collect()))
            .collect()
    };
    let expr = r#"sum by (grpc_method, le) (rate(a_bucket{grpc_type="unary", x=~"p,q}"}[5m] offset 1h))
        / on (grpc_method) group_left(job) b_total > bool 0.5e1
        or label_replace(c:recorded:rate5m{budget!="a"}, "budget", "500ms", "", "")
        unless max without(instance)(d) # e_total{} in a comment
        and histogram_quantile(0.99, sum(rate(e[$__rate_interval]))) - time()"#;
    assert_eq!(
        found(expr),
        [
            ("a_bucket".to_owned(), vec!["grpc_type".to_owned(), "x".to_owned()]),
            ("b_total".to_owned(), vec![]),
            ("c:recorded:rate5m".to_owned(), vec!["budget".to_owned()]),
            ("d".to_owned(), vec![]),
            ("e".to_owned(), vec![]),
        ]
    );
    let contract = readme_metrics();
    assert_eq!(
        contract.lookup("orders_db_statement_seconds_bucket").map(|(m, _)| m),
        Some("orders_db_statement_seconds")
    );
    assert!(
        contract
            .lookup("orders_db_statement_seconds_bucket")
            .unwrap()
            .1
            .contains("le")
    );
    assert_eq!(contract.lookup("orders_stockouts"), None);
    assert_eq!(contract.lookup("orders_jobs_finished_total_count"), None);
    assert!(
        markdown_anchors("## Runbooks\n### OrdersDbPoolSaturated\n#### Two words, `code`!").contains("two-words-code")
    );
}

/// Runs promtool from this repository's root, asserting success; a failure
/// shows everything promtool printed.
async fn promtool_succeeds(args: &[&str]) {
    let mut command = Command::new(promtool().await);
    command.args(args).current_dir(repo());
    run_to_success(&mut command, PROMTOOL_TIMEOUT, &format!("promtool {}", args.join(" "))).await;
}

/// promtool's path, from `scripts/install-promtool` (once per test binary).
pub async fn promtool() -> &'static Path {
    static PATH: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    PATH.get_or_init(|| path_printed_by("scripts/install-promtool", INSTALL_TIMEOUT))
        .await
}

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct RuleGroup {
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    record: Option<String>,
    alert: Option<String>,
    expr: String,
    #[serde(rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

impl Rule {
    fn name(&self) -> &str {
        self.alert
            .as_deref()
            .or(self.record.as_deref())
            .unwrap_or("a rule without a name")
    }
}

#[derive(Deserialize)]
struct RuleTests {
    tests: Vec<RuleTestGroup>,
}

#[derive(Deserialize)]
struct RuleTestGroup {
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
}

#[derive(Deserialize)]
struct AlertTest {
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<serde_norway::Value>,
}

fn read_yaml<T: serde::de::DeserializeOwned>(path: &str) -> T {
    let text = std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("reads {path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parses {path}: {e}"))
}

fn rules() -> Vec<Rule> {
    read_yaml::<RuleFile>(RULES)
        .groups
        .into_iter()
        .flat_map(|g| g.rules)
        .collect()
}

/// Every PromQL query of the dashboard, with where it is: the panels'
/// targets, and the selector inside each `label_values(<selector>, label)`
/// of the template variables.
fn dashboard_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join(DASHBOARD)).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("every target has an expr");
            queries.push((format!("dashboard panel {:?}", panel["title"]), expr.to_owned()));
        }
    }
    for variable in dashboard["templating"]["list"].as_array().expect("templating") {
        if variable["type"] != "query" {
            continue;
        }
        let query = variable["query"]["query"].as_str().expect("a variable's query");
        let inner = query
            .strip_prefix("label_values(")
            .and_then(|q| q.rsplit_once(','))
            .map(|(selector, _label)| selector)
            .unwrap_or_else(|| {
                panic!(
                    "variable {}: not label_values(<selector>, <label>): {query}",
                    variable["name"]
                )
            });
        queries.push((format!("dashboard variable {}", variable["name"]), inner.to_owned()));
    }
    assert!(queries.len() > 40, "only {} queries in {DASHBOARD}", queries.len());
    queries
}

/// `expr` with Grafana's `$__rate_interval` and `$__range` as durations and
/// every other `$variable` as a regex matching anything.
fn without_grafana_variables(expr: &str) -> String {
    let expr = expr.replace("$__rate_interval", "5m").replace("$__range", "1h");
    let mut out = String::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            while chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_').is_some() {}
            out.push_str(".*");
        } else {
            out.push(c);
        }
    }
    out
}

/// The README's metrics table: each metric with the labels it may be
/// selected by (its own, plus `job` and `instance` that Prometheus adds).
struct Contract(BTreeMap<String, (String, BTreeSet<String>)>);

impl Contract {
    /// The table's row for a name in a query (a histogram's `_bucket`,
    /// `_sum` or `_count` series under the histogram's row, `_bucket` with
    /// `le`), or None.
    fn lookup(&self, name: &str) -> Option<(&str, BTreeSet<&str>)> {
        if let Some((metric, (_, labels))) = self.0.get_key_value(name) {
            return Some((metric, labels.iter().map(String::as_str).collect()));
        }
        ["_bucket", "_sum", "_count"].into_iter().find_map(|suffix| {
            let (metric, (kind, labels)) = self.0.get_key_value(name.strip_suffix(suffix)?)?;
            if kind != "histogram" {
                return None;
            }
            let mut labels: BTreeSet<&str> = labels.iter().map(String::as_str).collect();
            if suffix == "_bucket" {
                labels.insert("le");
            }
            Some((metric.as_str(), labels))
        })
    }
}

fn readme_metrics() -> Contract {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let table = readme
        .split_once("<!-- metrics-table:start -->")
        .and_then(|(_, rest)| rest.split_once("<!-- metrics-table:end -->"))
        .expect("README.md has the metrics table between its markers")
        .0;
    let backticked = |cell: &str| -> Vec<String> { cell.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
    let mut rows = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, metric, kind, labels, ..] = cells[..] else {
            panic!("a metrics table row: {line}")
        };
        let metric = backticked(metric).pop().expect("a metric name in backticks");
        let mut labels: BTreeSet<String> = backticked(labels).into_iter().collect();
        labels.extend(["job".to_owned(), "instance".to_owned()]);
        rows.insert(metric, (kind.to_owned(), labels));
    }
    assert!(
        rows.len() > 30,
        "only {} rows in the README's metrics table",
        rows.len()
    );
    // Prometheus' own: 1 while the target answers its scrape.
    rows.insert(
        "up".to_owned(),
        ("gauge".to_owned(), ["job", "instance"].map(str::to_owned).into()),
    );
    Contract(rows)
}

/// A metric selected in a query, with the label names its matchers use.
struct Selector {
    name: String,
    labels: BTreeSet<String>,
}

/// Words of PromQL that are not metric names when they stand alone.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
    "inf",
    "nan",
    "atan2",
];

/// Words followed by a list of label names in parentheses, not by an
/// expression.
const LABEL_LISTS: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];

/// The metric selectors of a PromQL expression, in order. A small
/// tokenizer, not a parser: it skips strings, comments, range and
/// subquery brackets, numbers and durations, and `$grafana_variables`;
/// takes an identifier followed by `(` as a function, one of [`KEYWORDS`]
/// as an operator, and any other identifier as a metric name, with the
/// label names of the `{…}` after it.
fn selectors(expr: &str) -> Vec<Selector> {
    let chars: Vec<char> = expr.chars().collect();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let skip_string = |mut i: usize| -> usize {
        let quote = chars[i];
        i += 1;
        while i < chars.len() && chars[i] != quote {
            i += if chars[i] == '\\' { 2 } else { 1 };
        }
        i + 1
    };
    let skip_blank = |mut i: usize| {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(i);
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        } else if c.is_ascii_digit() || c == '.' || c == '$' {
            // A number (0.5e1, 0x1f), a duration (5m), or a Grafana variable.
            i += 1;
            while i < chars.len() && (is_ident(chars[i]) || chars[i] == '.') {
                i += 1;
            }
        } else if is_ident(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = skip_blank(i);
            let followed_by = chars.get(next).copied();
            if LABEL_LISTS.contains(&word.as_str()) && followed_by == Some('(') {
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
            } else if followed_by == Some('(') || KEYWORDS.contains(&word.as_str()) {
                // A function or an operator: its arguments are read on.
            } else {
                let mut labels = BTreeSet::new();
                if followed_by == Some('{') {
                    // Matchers: a label name at the start and after each comma.
                    i = next + 1;
                    let mut expect_name = true;
                    while i < chars.len() && chars[i] != '}' {
                        match chars[i] {
                            '"' | '\'' | '`' => i = skip_string(i),
                            ',' => {
                                expect_name = true;
                                i += 1;
                            }
                            c if expect_name && is_ident(c) => {
                                let start = i;
                                while i < chars.len() && is_ident(chars[i]) {
                                    i += 1;
                                }
                                labels.insert(chars[start..i].iter().collect());
                                expect_name = false;
                            }
                            _ => i += 1,
                        }
                    }
                }
                found.push(Selector { name: word, labels });
            }
        } else {
            i += 1;
        }
    }
    found
}

/// The anchors GitHub gives the headings of a Markdown file: lower case,
/// spaces as hyphens, punctuation other than `-` and `_` dropped.
fn markdown_anchors(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}
