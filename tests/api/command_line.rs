//! The operator's command line, run as the real binaries: `--version` names
//! the build, `completions` prints a script for each shell, `orders-seed`
//! and `orders migrate` show their progress on a terminal and nowhere else.

use std::{process::Output, time::Duration};

use crate::{
    local_machine::{run, run_to_success, show},
    test_database::TestDatabase,
};

async fn orders(args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"));
    command.args(args);
    run(&mut command, Duration::from_secs(30)).await
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

/// What `command_line` drew when run on a pseudo-terminal: `script` runs
/// it there and copies the screen to its stdout. It must succeed.
async fn drawn_on_a_terminal(command_line: &str, env: &[(&str, &str)]) -> String {
    let mut command = tokio::process::Command::new("script");
    command
        .args(["-qec", command_line, "/dev/null"])
        .envs(env.iter().copied());
    let output = run_to_success(&mut command, Duration::from_secs(60), command_line).await;
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `orders-seed` with a small catalog: 300 orders in batches of 100.
const SEED: &str = "--products 20 --customers 5 --orders 300 --batch 100";

#[tokio::test]
async fn the_seeder_shows_no_progress_when_its_output_is_not_a_terminal() {
    let db = TestDatabase::create().await;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders-seed"));
    command.args(SEED.split(' ')).env("DATABASE_URL", &db.url);
    let output = run_to_success(&mut command, Duration::from_secs(60), "orders-seed").await;
    assert_eq!(output.stderr, b"", "nothing on stderr: {}", show(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        5,
        "the products, one line per batch and a summary:\n{stdout}"
    );
    assert!(lines[0].starts_with("20 products created in "), "{stdout}");
    assert!(lines[4].starts_with("seeded 300 orders in "), "{stdout}");
    assert!(
        lines[4].ends_with("the database now holds 20 products and 300 orders"),
        "{stdout}"
    );
}

#[tokio::test]
async fn on_a_terminal_the_seeder_shows_each_phase_with_its_rate() {
    let db = TestDatabase::create().await;
    let seed = format!("{} {SEED}", env!("CARGO_BIN_EXE_orders-seed"));
    let screen = drawn_on_a_terminal(&seed, &[("DATABASE_URL", &db.url)]).await;
    for drawn in [
        "products: creating the missing ones",
        "orders (with customers, lines) [",
        "] 300/300 ",
        "/s ETA ",
        "indexes rebuilt [",
    ] {
        assert!(screen.contains(drawn), "{drawn:?} was drawn:\n{screen}");
    }
    assert!(screen.contains("seeded 300 orders in "), "{screen}");
}

#[tokio::test]
async fn orders_migrate_shows_each_migration_on_a_terminal_and_nothing_in_a_pipe() {
    let piped = TestDatabase::create_empty().await;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"));
    command
        .args(["migrate", "--services", "orders"])
        .env("DATABASE_URL", &piped.url);
    let output = run_to_success(&mut command, Duration::from_secs(60), "orders migrate").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("migrating"), "no progress in a pipe:\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "only the log line:\n{stderr}");
    assert!(
        stderr.contains("migrations applied; the schema is up to date"),
        "{stderr}"
    );

    let on_terminal = TestDatabase::create_empty().await;
    let migrate = format!("{} migrate --services orders", env!("CARGO_BIN_EXE_orders"));
    let screen = drawn_on_a_terminal(&migrate, &[("DATABASE_URL", &on_terminal.url)]).await;
    let count = std::fs::read_dir(crate::local_machine::repo().join("migrations"))
        .unwrap()
        .count();
    for drawn in [
        format!("migrating orders [0/{count}] "),
        "_create_schema".to_owned(),
        format!("migrating orders [{count}/{count}] "),
        format!("{count} applied"),
    ] {
        assert!(screen.contains(&drawn), "{drawn:?} was drawn:\n{screen}");
    }
}

/// `orders-load` against `app`: health checks, no warm-up, 2 s measured.
fn load_command(app: &crate::app::TestApp, extra: &str) -> String {
    format!(
        "{} --addr http://{} --workload health --concurrency 4 --connections 1 --warmup 0s --duration 2s {extra}",
        env!("CARGO_BIN_EXE_orders-load"),
        app.addr
    )
}

#[tokio::test]
async fn orders_load_draws_a_live_line_on_a_terminal_only() {
    let app = crate::app::spawn_app().await;
    let live = "calls, ";
    let screen = drawn_on_a_terminal(&load_command(&app, ""), &[]).await;
    assert!(
        screen.contains(live) && screen.contains("/s, 0 errors, p99 "),
        "{screen}"
    );
    assert!(screen.contains("Summary:"), "then the summary:\n{screen}");

    let screen = drawn_on_a_terminal(&load_command(&app, "--json"), &[]).await;
    assert!(!screen.contains(live), "no live line with --json:\n{screen}");

    let args = load_command(&app, "");
    let mut args = args.split_whitespace();
    let mut command = tokio::process::Command::new(args.next().unwrap());
    command.args(args);
    let output = run_to_success(&mut command, Duration::from_secs(60), "orders-load").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "only the opening line in a pipe:\n{stderr}");
    assert!(
        stderr.starts_with("orders-load: health=1; warm-up 0s, then measuring 2s"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_man_page_is_built_in_and_names_the_build_every_subcommand_and_flag() {
    let output = orders(&["man"]).await;
    assert!(output.status.success(), "{}", show(&output));
    let page = String::from_utf8(output.stdout).unwrap();
    let version = String::from_utf8(orders(&["--version"]).await.stdout).unwrap();
    let version = version.trim().strip_prefix("orders ").unwrap();
    assert!(page.contains(".TH orders 1 "), "a section-1 page:\n{page}");
    assert!(
        page.contains(&format!("\"orders {version}\"")),
        "the same build as --version:\n{page}"
    );
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for subcommand in ["serve", "migrate", "doctor", "token", "jobs", "man", "completions"] {
        assert!(
            page.contains(&format!("orders\\-{subcommand}(1)")),
            "lists {subcommand}"
        );
    }
    for flag in [
        "\\-\\-database\\-url",
        "\\-\\-nats\\-url",
        "ORDERS_SMTP_URL",
        "DATABASE_URL",
    ] {
        assert!(page.contains(flag), "documents {flag}");
    }

    // Every page it refers to, written where a packager asks.
    let dir = crate::local_machine::fresh_dir("man");
    let output = orders(&["man", "--out-dir", dir.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", show(&output));
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let expected = [
        "orders-completions.1",
        "orders-doctor.1",
        "orders-jobs-list.1",
        "orders-jobs-retry.1",
        "orders-jobs.1",
        "orders-man.1",
        "orders-migrate.1",
        "orders-serve.1",
        "orders-token.1",
        "orders.1",
    ];
    assert_eq!(written, expected);
    assert_eq!(std::fs::read_to_string(dir.join("orders.1")).unwrap(), page);
    let doctor = std::fs::read_to_string(dir.join("orders-doctor.1")).unwrap();
    assert!(
        doctor.contains(".TH orders-doctor 1 ") && doctor.contains("\\-\\-json"),
        "{doctor}"
    );
}
