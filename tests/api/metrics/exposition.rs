//! A scrape of `/metrics` over plain HTTP/1.1, read into series: enough of
//! the Prometheus text format for exact assertions (`# HELP`/`# TYPE`
//! lines, one sample per line, label values without escapes).

use std::collections::BTreeSet;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A sample's labels, sorted by name.
pub type Labels = Vec<(String, String)>;

/// Every sample of one scrape, and the families its `# TYPE` lines name.
pub struct Exposition {
    pub text: String,
    samples: Vec<(String, Labels, f64)>,
    types: BTreeSet<String>,
}

impl Exposition {
    pub fn parse(text: &str) -> Exposition {
        let mut samples = Vec::new();
        let mut types = BTreeSet::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(typed) = line.strip_prefix("# TYPE ") {
                types.insert(typed.split_whitespace().next().unwrap().to_owned());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a sample is a series and a value");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number in {line:?}"));
            let (name, labels) = match series.split_once('{') {
                None => (series.to_owned(), Vec::new()),
                Some((name, rest)) => (name.to_owned(), labels(rest.trim_end_matches('}'))),
            };
            samples.push((name, labels, value));
        }
        Exposition {
            text: text.to_owned(),
            samples,
            types,
        }
    }

    /// The value of the one sample of `name` with exactly `labels`.
    #[track_caller]
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut wanted: Labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        wanted.sort();
        let found: Vec<f64> = (self.samples.iter())
            .filter(|(n, l, _)| n == name && *l == wanted)
            .map(|(_, _, v)| *v)
            .collect();
        match found[..] {
            [value] => value,
            _ => panic!(
                "{name}{wanted:?}: {} samples; the series of {name} are {:?}",
                found.len(),
                self.series(name)
            ),
        }
    }

    /// Every sample of `name`.
    pub fn series(&self, name: &str) -> Vec<(Labels, f64)> {
        (self.samples.iter())
            .filter(|(n, _, _)| n == name)
            .map(|(_, l, v)| (l.clone(), *v))
            .collect()
    }

    /// The metric families the scrape declares.
    pub fn families(&self) -> Vec<String> {
        self.types.iter().cloned().collect()
    }
}

fn labels(text: &str) -> Labels {
    let mut labels: Labels = (text.split("\",").filter(|pair| !pair.is_empty()))
        .map(|pair| {
            let (name, value) = pair.split_once("=\"").expect("name=\"value\"");
            (name.to_owned(), value.trim_end_matches('"').to_owned())
        })
        .collect();
    labels.sort();
    labels
}

/// The whole HTTP response to `GET path` from `addr`.
pub async fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("the metrics endpoint accepts");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// A scrape of `addr`'s `/metrics`, which must answer 200 in the text format.
pub async fn scrape(addr: &str) -> Exposition {
    let response = get(addr, "/metrics").await;
    let (head, body) = response.split_once("\r\n\r\n").expect("headers, then a body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    Exposition::parse(body)
}

/// Asserts that `promtool check metrics` finds nothing to say about `text`.
pub async fn assert_promtool_accepts(text: &str) {
    let mut child = tokio::process::Command::new(crate::alerts::promtool().await)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let said = [output.stdout, output.stderr].concat();
    assert!(
        output.status.success() && said.is_empty(),
        "promtool check metrics ({}): {}",
        output.status,
        String::from_utf8_lossy(&said)
    );
}
