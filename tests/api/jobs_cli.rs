//! `orders jobs list|retry`, the operator's view of a job queue, run as the
//! real binary against a test's database.

use std::process::Output;

use crate::{
    app::{TestApp, spawn_app},
    direct_sql::{execute_sql, query_n},
    local_machine::{run, show},
};

async fn orders_jobs(app: &TestApp, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"));
    command.arg("jobs").args(args).env("DATABASE_URL", &app.db_url);
    run(&mut command, std::time::Duration::from_secs(30)).await
}

#[tokio::test]
async fn an_operator_lists_failed_jobs_and_retries_one() {
    let app = spawn_app().await;
    execute_sql(
        &app,
        "INSERT INTO jobs (kind, state, attempts, max_attempts, last_error, finish_time) \
         VALUES ('send_invoice', 'failed', 10, 10, 'mailbox full', now()), ('other', 'pending', 0, 10, NULL, NULL)",
    )
    .await;
    let listed = orders_jobs(&app, &["list", "--state", "failed"]).await;
    assert!(listed.status.success(), "{}", show(&listed));
    let text = String::from_utf8_lossy(&listed.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "a header and the one failed job:\n{text}");
    assert!(
        lines[1].contains("send_invoice") && lines[1].contains("failed"),
        "{text}"
    );
    assert!(
        lines[1].contains("10/10") && lines[1].ends_with("mailbox full"),
        "{text}"
    );

    let id = query_n(&app, "SELECT id AS n FROM jobs WHERE kind = 'send_invoice'").await;
    let retried = orders_jobs(&app, &["retry", &id.to_string()]).await;
    assert!(retried.status.success(), "{}", show(&retried));
    let pending = "SELECT count(*) AS n FROM jobs WHERE kind = 'send_invoice' AND state = 'pending' AND attempts = 0";
    assert_eq!(query_n(&app, pending).await, 1);

    let again = orders_jobs(&app, &["retry", &id.to_string()]).await;
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("job {id} does not exist or has not failed")),
        "{stderr}"
    );
}
