//! The database of a test: [`TestDatabase::create`] makes a fresh one for
//! each test, and drops it when the test is over.
//!
//! Here because databases are the slow part of a test: the migrations are
//! applied once per schema version to a template database; each test then
//! gets `CREATE DATABASE … TEMPLATE`, which is much faster than migrating,
//! and drops it when its [`TestDatabase`] is dropped. Databases left behind
//! by crashed runs (whose process is gone) are swept at the first creation.
//!
//! The PostgreSQL server is `ORDERS_TEST_DATABASE_URL` or `DATABASE_URL` if
//! set (any database on it; it is only used to reach the server), else the
//! same zero-configuration local PostgreSQL the service itself would use.
//!
//! [`init_tracing`] is here too: creating a database is the first thing every
//! test does, so that is where the test log is set up.

use std::{
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use diesel::{QueryableByName, sql_types::Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use orders::db::launcher::{LocalPostgres, with_database};
use sha2::{Digest, Sha256};

/// A database of one test, created from the migrated template and dropped
/// when this is dropped.
pub struct TestDatabase {
    /// The URL of the database.
    pub url: String,
    /// Its name.
    pub name: String,
    /// The server's maintenance database, from which it is dropped.
    pub admin_url: String,
}

impl TestDatabase {
    /// A fresh database on the default test server.
    pub async fn create() -> TestDatabase {
        init_tracing();
        let admin_url = admin_url().await;
        let template = template_database(&admin_url).await;
        TestDatabase::create_on(admin_url, &template).await
    }

    /// A fresh, empty database (no migrations applied) on the default test server.
    pub async fn create_empty() -> TestDatabase {
        init_tracing();
        TestDatabase::create_on(admin_url().await, "template0").await
    }

    /// A fresh copy of `template` on the server of `admin_url`.
    pub async fn create_on(admin_url: String, template: &str) -> TestDatabase {
        let name = create_test_database(&admin_url, template).await;
        let url = with_database(&admin_url, &name);
        TestDatabase { url, name, admin_url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = block_on_aside(async move { drop_database(&admin_url, &name).await });
        if let Some(Err(error)) = dropped {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

/// Runs `work` to its end on a thread with a runtime of its own, for `Drop`
/// impls: they run inside the test's runtime, which cannot be blocked on.
/// `None` if the work panicked.
pub fn block_on_aside<F>(work: F) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(work)
    })
    .join()
    .ok()
}

/// Sends the server's log (at `TEST_LOG`, default `warn`) to the test's output.
pub fn init_tracing() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_env("TEST_LOG").unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// A URL of the `postgres` maintenance database of the test server.
async fn admin_url() -> String {
    static URL: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    URL.get_or_init(|| async {
        let configured = ["ORDERS_TEST_DATABASE_URL", "DATABASE_URL"]
            .into_iter()
            .find_map(|k| std::env::var(k).ok());
        match configured {
            Some(url) => with_database(&url, "postgres"),
            None => LocalPostgres::from_env()
                .server_url()
                .await
                .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}")),
        }
    })
    .await
    .clone()
}

/// The template database for the current migrations, created if missing.
async fn template_database(admin_url: &str) -> String {
    static NAME: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    NAME.get_or_init(|| build_template(admin_url.to_owned())).await.clone()
}

/// Migrates a template database on the server of `admin_url` (once per
/// schema version) and returns its name.
pub async fn build_template(admin_url: String) -> String {
    let name = format!("orders_test_template_{}", migrations_hash());
    ensure_template(&admin_url, &name, true).await;
    name
}

/// Creates the template `name` unless it exists; with `sweep`, first drops
/// what crashed runs and other schema versions left behind.
async fn ensure_template(admin_url: &str, name: &str, sweep: bool) {
    let mut admin = AsyncPgConnection::establish(admin_url)
        .await
        .expect("connects to the admin database");
    // Serialise test processes that start together; the lock ends with the session.
    admin.batch_execute("SELECT pg_advisory_lock(7101)").await.unwrap();
    if sweep {
        sweep_leftovers(&mut admin, name).await;
    }
    if !database_names(&mut admin, name).await.contains(&name.to_owned()) {
        let building = format!("{name}_building");
        // Separate statements: DROP/CREATE DATABASE cannot share a transaction.
        let drop = format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)");
        admin.batch_execute(&drop).await.unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .await
            .unwrap();
        orders::db::migrations::run(&with_database(admin_url, &building))
            .await
            .expect("migrations apply");
        // Publishing by rename: a template exists only once fully migrated.
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
            .await
            .unwrap();
    }
    admin.batch_execute("SELECT pg_advisory_unlock(7101)").await.unwrap();
}

/// A short hash of everything under `migrations/` (names relative to it, so
/// that two checkouts of the same schema share one template).
fn migrations_hash() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files = Vec::new();
    collect_files(&root, &mut files);
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.strip_prefix(&root).unwrap().to_string_lossy().as_bytes());
        hash.update(std::fs::read(&file).unwrap());
    }
    hash.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, out)
        } else {
            out.push(path)
        }
    }
}

/// Drops test databases of processes that no longer exist, and templates
/// of other schema versions.
async fn sweep_leftovers(admin: &mut AsyncPgConnection, current_template: &str) {
    for name in database_names(admin, "orders_test_%").await {
        let stale = match name
            .strip_prefix("orders_test_p")
            .and_then(|rest| rest.split('_').next())
        {
            Some(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
            None => name.starts_with("orders_test_template_") && name != current_template,
        };
        if stale {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Text)]
    datname: String,
}

async fn database_names(admin: &mut AsyncPgConnection, like: &str) -> Vec<String> {
    let rows: Vec<DatabaseName> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind::<Text, _>(like)
        .load(admin)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.datname).collect()
}

async fn create_test_database(admin_url: &str, template: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "orders_test_p{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = AsyncPgConnection::establish(admin_url)
        .await
        .expect("connects to the admin database");
    let create = format!("CREATE DATABASE {name} TEMPLATE {template}");
    // Creation fails while anyone else is connected to the template (for
    // example another process's check); that is brief, so retry. A test
    // process of another schema version (another checkout) may have swept
    // our template: then it is built again.
    for attempt in 0.. {
        match admin.batch_execute(&create).await {
            Ok(()) => break,
            Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) if attempt < 50 && e.to_string().contains("does not exist") && template != "template0" => {
                ensure_template(admin_url, template, false).await
            }
            Err(e) => panic!("could not create {name}: {e}"),
        }
    }
    name
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), diesel::result::Error> {
    let mut admin = AsyncPgConnection::establish(admin_url)
        .await
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
}
