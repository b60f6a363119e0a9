//! The operator's command line, run as the real binary: `--version` names
//! the build, `completions` prints a script for each shell.

use std::process::Output;

use crate::local_machine::{run, show};

async fn orders(args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"));
    command.args(args);
    run(&mut command, std::time::Duration::from_secs(30)).await
}

#[tokio::test]
async fn version_names_the_release_the_git_revision_and_the_build_date() {
    let output = orders(&["--version"]).await;
    assert!(output.status.success(), "{}", show(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let rest = text
        .strip_prefix(&format!("orders {} (rev ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("starts with the name and version: {text:?}"));
    let (revision, rest) = rest.split_once(", built ").expect("then the build date");
    if crate::local_machine::repo().join(".git").exists() {
        // Built from a checkout, so git names the commit: 12 hex digits.
        assert_eq!(revision.len(), 12, "{text:?}");
        assert!(revision.bytes().all(|b| b.is_ascii_hexdigit()), "{text:?}");
    } else {
        assert_eq!(revision, "unknown", "a source tarball without ORDERS_GIT_REVISION");
    }
    let date = rest.strip_suffix(")\n").expect("one line, closed");
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("an ISO date");
    let today = chrono::Utc::now().date_naive();
    assert!(
        date <= today && date > today - chrono::Days::new(30),
        "{date} is the build's date"
    );
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _orders"),
        ("zsh", "#compdef orders"),
        ("fish", "complete -c orders"),
    ] {
        let output = orders(&["completions", shell]).await;
        assert!(output.status.success(), "{shell}: {}", show(&output));
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains(marker), "{shell} script lacks {marker:?}");
        for subcommand in ["serve", "migrate", "jobs", "completions"] {
            assert!(script.contains(subcommand), "{shell} script completes {subcommand}");
        }
    }
}

#[tokio::test]
async fn an_unknown_shell_is_a_usage_error_that_lists_the_known_ones() {
    let output = orders(&["completions", "tcsh"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("invalid value 'tcsh'"), "{error}");
    assert!(
        error.contains("[possible values: bash, elvish, fish, powershell, zsh]"),
        "{error}"
    );
}
