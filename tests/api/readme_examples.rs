//! The grpcurl examples of README.md, run verbatim against the live server:
//! a client that is not ours, and documentation that cannot go stale.
//!
//! They need the virtualenv that `scripts/python-env` creates (with a
//! `grpcurl` binary from PyPI); the tests run that script themselves, so
//! `cargo test` works on a fresh machine with python3 and jq (see
//! [`crate::local_machine::python_venv`]).
//!
//! The README examples are the `sh` blocks between the markers of
//! [`EXAMPLES`] (a server without authentication) and of [`AUTH_EXAMPLES`]
//! (one that requires tokens). Each is followed by a line
//! `Output:` and a `json` or `text` block with what it prints (stdout and
//! stderr together). All examples run in order in one bash session, so shell
//! variables set by one are seen by the next. The only change made to the
//! commands is that [`README_ADDR`] becomes the test server's real address.
//!
//! How an output is compared with the README's (JSON structurally, text
//! with white space squeezed, UUIDs and timestamps as placeholders) is in
//! [`output_matching`]. An example whose output starts with
//! `ERROR:` must exit non-zero, any other with 0.

mod output_matching;

use std::{net::SocketAddr, path::Path, time::Duration};

use tokio::process::Command;

use self::output_matching::{Placeholders, first_difference, jq_sorted, squeeze};
use crate::{
    app::{TestApp, spawn_app, spawn_secured_app},
    local_machine::{python_venv, repo, run, show},
    tokens,
};

const EXAMPLES: (&str, &str) = ("<!-- grpcurl-examples:start -->", "<!-- grpcurl-examples:end -->");
const AUTH_EXAMPLES: (&str, &str) = (
    "<!-- grpcurl-auth-examples:start -->",
    "<!-- grpcurl-auth-examples:end -->",
);
/// The server address the README's commands use (the service's default).
const README_ADDR: &str = "localhost:50051";
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

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
