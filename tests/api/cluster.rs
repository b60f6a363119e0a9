//! A private PostgreSQL cluster that a test owns and may hurt: stop it in
//! immediate mode (a crash, as far as clients can tell) and start it again.
//!
//! Each cluster lives in its own directory under /tmp (which the `postgres`
//! OS user can traverse; `initdb` refuses to run as root) on a free port,
//! and is stopped and deleted when dropped.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
};

use orders::db::launcher::LocalPostgres;

use crate::{
    local_machine::free_port,
    test_database::{TestDatabase, block_on_aside, build_template, init_tracing},
};

pub struct PrivateCluster {
    local: LocalPostgres,
    /// The URL of the cluster's `postgres` database.
    pub admin_url: String,
}

impl PrivateCluster {
    /// Initialises and starts a new cluster.
    pub async fn start() -> PrivateCluster {
        init_tracing();
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let data_dir = PathBuf::from(format!("/tmp/orders-test-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let local = LocalPostgres {
            data_dir,
            port: free_port(),
        };
        let admin_url = local.start_private().await.expect("a private cluster starts");
        PrivateCluster { local, admin_url }
    }

    /// A fresh, migrated database on this cluster.
    pub async fn database(&self) -> TestDatabase {
        let template = build_template(self.admin_url.clone()).await;
        TestDatabase::create_on(self.admin_url.clone(), &template).await
    }

    /// Kills the server the way a crash would: `pg_ctl stop -m immediate`
    /// (no checkpoint, no goodbye to clients; recovery replays the WAL).
    pub async fn crash(&self) {
        self.local.stop("immediate").await.expect("pg_ctl stop -m immediate");
    }

    /// Starts the (stopped) cluster again and returns once it accepts
    /// connections.
    pub async fn restart(&self) {
        self.local.start_private().await.expect("the cluster starts again");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let local = self.local.clone();
        block_on_aside(async move {
            let _ = local.stop("immediate").await;
            let _ = std::fs::remove_dir_all(&local.data_dir);
        });
    }
}
