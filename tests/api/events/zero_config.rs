//! Zero-configuration NATS: without `--nats-url`, the service uses the NATS
//! on the shared address when one answers, else starts a private
//! `nats-server -js` (and reuses it next time), and says in one line what to
//! do when no `nats-server` is installed. Each test points the launcher at
//! its own free ports, so the machine's NATS on 4222 plays no part.

use std::path::Path;

use orders::events::launcher::LocalNats;

use crate::local_machine::{free_port, fresh_dir};

/// A launcher whose shared address has nothing listening on it.
fn nothing_shared() -> LocalNats {
    LocalNats {
        shared: format!("127.0.0.1:{}", free_port()),
        private_port: free_port(),
        ..LocalNats::default()
    }
}

/// Stops the private server the launcher left running (on purpose, for the
/// next start) once the test is done.
struct StopsPrivateServer<'a>(&'a Path);

impl Drop for StopsPrivateServer<'_> {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.0.join("nats.pid")) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
    }
}

#[tokio::test]
async fn without_a_shared_server_a_private_one_with_jetstream_is_started_and_then_reused() {
    let launcher = nothing_shared();
    let store = fresh_dir("zero-config-nats");
    let _stop = StopsPrivateServer(&store);

    let url = launcher.find_or_start(&store).await.expect("a private NATS starts");
    assert_eq!(url, format!("nats://127.0.0.1:{}", launcher.private_port));
    assert!(store.join("nats.pid").exists(), "its pid is kept in the store");

    let client = async_nats::connect(&url).await.expect("the private NATS answers");
    let jetstream = async_nats::jetstream::new(client);
    let config = async_nats::jetstream::stream::Config {
        name: "ZERO_CONFIG".into(),
        subjects: vec!["zero-config.>".into()],
        ..Default::default()
    };
    jetstream.create_stream(config).await.expect("JetStream is enabled");
    jetstream
        .publish("zero-config.hello", "stored".into())
        .await
        .expect("a publish is sent")
        .await
        .expect("and acked: the store is on disk");
    assert!(
        store.join("jetstream").is_dir(),
        "JetStream keeps its store in the folder given"
    );

    let pid = std::fs::read_to_string(store.join("nats.pid")).unwrap();
    let again = launcher.find_or_start(&store).await.expect("found again");
    assert_eq!(again, url);
    let pid_again = std::fs::read_to_string(store.join("nats.pid")).unwrap();
    assert_eq!(pid_again, pid, "the running server is reused, not started twice");
}

#[tokio::test]
async fn a_shared_server_that_answers_is_used_and_nothing_is_started() {
    let shared = crate::nats::PrivateNats::start().await;
    let launcher = LocalNats {
        shared: format!("127.0.0.1:{}", shared.port),
        ..nothing_shared()
    };
    let store = fresh_dir("zero-config-nats-unused");

    let url = launcher.find_or_start(&store).await.expect("the shared NATS is found");
    assert_eq!(url, shared.url());
    assert!(!store.join("nats.pid").exists(), "no private server was started");
}

#[tokio::test]
async fn without_nats_server_installed_the_error_says_what_to_do_in_one_line() {
    let launcher = LocalNats {
        program: "/nonexistent/bin/nats-server".into(),
        ..nothing_shared()
    };
    let store = fresh_dir("zero-config-nats-missing");

    let error = launcher.find_or_start(&store).await.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "no NATS server answers on {} and `/nonexistent/bin/nats-server` is not installed: set \
             --nats-url (ORDERS_NATS_URL), or install NATS (e.g. `apt-get install nats-server`)",
            launcher.shared
        )
    );
    assert!(!error.contains('\n'));
}
