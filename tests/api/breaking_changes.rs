//! `scripts/check-breaking`, the CI step that fails when proto/ breaks the
//! contract clients generate code from: run as CI runs it (CI=true, so
//! against HEAD~1) in throwaway git repositories holding a copy of this
//! repository's proto/ and buf.yaml, committed, then changed and committed
//! again. A removed field, a renumbered enum value and a renamed RPC each
//! fail with buf's finding naming exactly that, and nothing else; added
//! fields, enum values and RPCs pass. Where there is no previous commit to
//! compare with (the first commit, a shallow clone) it fails saying so,
//! never skips; outside CI a branch is compared with where it left main.
//!
//! buf comes from `scripts/install-buf` (npm), as for `scripts/lint-protos`;
//! where it cannot be had these tests fail with the script's message.

use std::{path::PathBuf, process::Output, time::Duration};

use tokio::process::Command;

use crate::local_machine::{fresh_dir, repo, run, run_to_success, show};

/// Generous: a cold install downloads buf (about 40 MB) from npm.
const CHECK_TIMEOUT: Duration = Duration::from_secs(600);
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

const ORDERS_PROTO: &str = "proto/orders/v1/orders.proto";

#[tokio::test]
async fn a_removed_field_fails() {
    let scratch = Scratch::with_the_protos("removed-field").await;
    scratch.edit(ORDERS_PROTO, "  string cancel_reason = 11;\n", "");
    scratch.commit("Remove Order.cancel_reason").await;
    scratch
        .check_fails_with(
            Ci::Yes,
            &[],
            r#"Previously present field "11" with name "cancel_reason" on message "Order" was deleted."#,
        )
        .await;
}

#[tokio::test]
async fn a_renumbered_enum_value_fails() {
    let scratch = Scratch::with_the_protos("renumbered-enum").await;
    scratch.edit(ORDERS_PROTO, "ORDER_STATE_SHIPPED = 2;", "ORDER_STATE_SHIPPED = 20;");
    scratch.commit("Renumber ORDER_STATE_SHIPPED").await;
    scratch
        .check_fails_with(
            Ci::Yes,
            &[],
            r#"Previously present enum value "2" on enum "OrderState" was deleted."#,
        )
        .await;
}

#[tokio::test]
async fn a_renamed_rpc_fails() {
    let scratch = Scratch::with_the_protos("renamed-rpc").await;
    scratch.edit(ORDERS_PROTO, "rpc GetOrder(", "rpc FetchOrder(");
    scratch.commit("Rename GetOrder to FetchOrder").await;
    scratch
        .check_fails_with(
            Ci::Yes,
            &[],
            r#"Previously present RPC "GetOrder" on service "OrderService" was deleted."#,
        )
        .await;
}

#[tokio::test]
async fn added_fields_enum_values_and_rpcs_pass() {
    let scratch = Scratch::with_the_protos("additions").await;
    scratch.add_a_field_an_enum_value_and_an_rpc();
    scratch
        .commit("Add Order.gift_note, ORDER_STATE_ON_HOLD and PingOrders")
        .await;
    let output = scratch.check(Ci::Yes, &[]).await;
    assert!(
        output.status.success(),
        "additions are not breaking:\n{}",
        show(&output)
    );
    assert_eq!(findings(&output), Vec::<String>::new(), "{}", show(&output));
    assert!(
        stderr(&output).contains("comparing proto/ with HEAD~1"),
        "CI compares with the previous commit:\n{}",
        show(&output)
    );
}

#[tokio::test]
async fn the_first_commit_fails_for_want_of_a_previous_one() {
    let scratch = Scratch::with_the_protos("first-commit").await;
    let output = scratch.check(Ci::Yes, &[]).await;
    assert_failed_saying(&output, "HEAD is the first commit of the repository");
}

#[tokio::test]
async fn a_shallow_clone_fails_for_want_of_the_previous_commit() {
    let scratch = Scratch::with_the_protos("shallow-origin").await;
    scratch.add_a_field_an_enum_value_and_an_rpc();
    scratch.commit("Additions").await;
    // A path is cloned in full whatever --depth says; a file:// URL is not.
    let parent = fresh_dir("breaking-shallow");
    let url = format!("file://{}", scratch.path());
    git_in(&parent, &["clone", "--quiet", "--depth", "1", &url, "clone"]).await;
    let shallow = Scratch {
        dir: parent.join("clone"),
    };
    let output = shallow.check(Ci::Yes, &[]).await;
    assert_failed_saying(&output, "this clone is shallow and does not hold HEAD~1");
}

#[tokio::test]
async fn outside_ci_a_branch_is_compared_with_where_it_left_main() {
    let scratch = Scratch::with_the_protos("branch").await;
    scratch.git(&["switch", "--quiet", "-c", "feature"]).await;
    scratch.edit(ORDERS_PROTO, "  string cancel_reason = 11;\n", "");
    scratch.commit("Remove Order.cancel_reason").await;
    // HEAD~1 has no cancel_reason either: only the whole branch shows it.
    scratch.add_a_field_an_enum_value_and_an_rpc();
    scratch.commit("Additions").await;
    // main moves on; its new field is not one the branch removed.
    scratch.git(&["switch", "--quiet", "main"]).await;
    scratch.edit(
        ORDERS_PROTO,
        "message Order {\n",
        "message Order {\n  string gift_wrap = 9998;\n",
    );
    scratch.commit("Add Order.gift_wrap").await;
    scratch.git(&["switch", "--quiet", "feature"]).await;

    scratch
        .check_fails_with(
            Ci::No,
            &[],
            r#"Previously present field "11" with name "cancel_reason" on message "Order" was deleted."#,
        )
        .await;
    // In CI (the previous commit only), the same branch passes.
    let output = scratch.check(Ci::Yes, &[]).await;
    assert!(
        output.status.success(),
        "HEAD~1 already lacks the field:\n{}",
        show(&output)
    );
}

#[tokio::test]
async fn a_tag_can_be_named() {
    let scratch = Scratch::with_the_protos("tag").await;
    scratch.git(&["tag", "v1.0.0"]).await;
    scratch.edit(ORDERS_PROTO, "rpc GetOrder(", "rpc FetchOrder(");
    scratch.commit("Rename GetOrder to FetchOrder").await;
    scratch.add_a_field_an_enum_value_and_an_rpc();
    scratch.commit("Additions").await;
    scratch
        .check_fails_with(
            Ci::Yes,
            &["v1.0.0"],
            r#"Previously present RPC "GetOrder" on service "OrderService" was deleted."#,
        )
        .await;
}

/// Whether the script runs as in CI (`CI=true`) or on a developer's machine
/// (no `CI`).
#[derive(Clone, Copy)]
enum Ci {
    Yes,
    No,
}

/// A throwaway git repository, its branch `main` holding one commit of this
/// repository's proto/ and buf.yaml.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    async fn with_the_protos(purpose: &str) -> Scratch {
        let scratch = Scratch {
            dir: fresh_dir(&format!("breaking-{purpose}")),
        };
        copy_dir(&repo().join("proto"), &scratch.dir.join("proto"));
        std::fs::copy(repo().join("buf.yaml"), scratch.dir.join("buf.yaml")).unwrap();
        scratch.git(&["init", "--quiet", "--initial-branch", "main"]).await;
        scratch.commit("The protos").await;
        scratch
    }

    fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    async fn git(&self, args: &[&str]) {
        git_in(&self.dir, args).await;
    }

    async fn commit(&self, message: &str) {
        self.git(&["add", "--all"]).await;
        self.git(&["commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message])
            .await;
    }

    /// Replaces the one occurrence of `from` in `file` with `to`.
    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(from).count(), 1, "{file} has {from:?} exactly once");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    /// New numbers and names only, as the last changes on main made.
    fn add_a_field_an_enum_value_and_an_rpc(&self) {
        self.edit(
            ORDERS_PROTO,
            "message Order {\n",
            "message Order {\n  string gift_note = 9999;\n",
        );
        self.edit(
            ORDERS_PROTO,
            "ORDER_STATE_UNSPECIFIED = 0;\n",
            "ORDER_STATE_UNSPECIFIED = 0;\n  ORDER_STATE_ON_HOLD = 99;\n",
        );
        self.edit(
            ORDERS_PROTO,
            "service OrderService {\n",
            "service OrderService {\n  rpc PingOrders(GetOrderRequest) returns (GetOrderResponse);\n",
        );
    }

    /// Runs this repository's scripts/check-breaking in the scratch repository.
    async fn check(&self, ci: Ci, args: &[&str]) -> Output {
        let mut command = Command::new("bash");
        command
            .arg(repo().join("scripts/check-breaking"))
            .args(args)
            .current_dir(&self.dir);
        for variable in ["BREAKING_AGAINST", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
            command.env_remove(variable);
        }
        match ci {
            Ci::Yes => command.env("CI", "true"),
            Ci::No => command.env_remove("CI"),
        };
        run(&mut command, CHECK_TIMEOUT).await
    }

    /// Asserts that the check fails with buf's `finding` as its only one.
    async fn check_fails_with(&self, ci: Ci, args: &[&str], finding: &str) {
        let output = self.check(ci, args).await;
        assert_failed_saying(&output, "proto/ breaks the contract of");
        assert_eq!(findings(&output), [finding], "{}", show(&output));
    }
}

/// buf's findings (`file:line:column:message` on stdout), their messages.
fn findings(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(4, ':');
            let (file, line, column, message) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            (file.starts_with("proto/") && numeric(line) && numeric(column)).then(|| message.to_owned())
        })
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_failed_saying(output: &Output, reason: &str) {
    assert_eq!(output.status.code(), Some(1), "the check fails:\n{}", show(output));
    assert!(
        stderr(output).contains(reason),
        "the check says {reason:?}:\n{}",
        show(output)
    );
}

async fn git_in(dir: &std::path::Path, args: &[&str]) {
    let mut command = Command::new("git");
    command
        .args(args)
        .current_dir(dir)
        // Whoever runs the tests, with whatever git configuration.
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Breaking Test")
        .env("GIT_AUTHOR_EMAIL", "breaking@example.com")
        .env("GIT_COMMITTER_NAME", "Breaking Test")
        .env("GIT_COMMITTER_EMAIL", "breaking@example.com");
    for variable in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
        command.env_remove(variable);
    }
    run_to_success(&mut command, GIT_TIMEOUT, &format!("git {}", args.join(" "))).await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
