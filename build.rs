//! Compiles the protos under `proto/` with protox (a pure-Rust protobuf
//! compiler, so no `protoc` has to be installed) and generates the tonic
//! server and client code from the resulting descriptors.
//!
//! The encoded descriptor set is also written to `OUT_DIR` so that server
//! reflection can describe every message without .proto files at hand.
//!
//! It also names the build for `orders --version`: the git revision and the
//! build date, as the environment variables `ORDERS_GIT_REVISION` and
//! `ORDERS_BUILD_DATE` of the compiled crate; and it writes the man pages
//! (`OUT_DIR/man/`) from the command line's own definition (`src/config/`,
//! compiled here too), which `orders man` prints or installs.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

use prost::Message;

/// The command line, the very module the crate uses (it needs nothing of
/// the crate but `VERSION`, given below).
#[allow(dead_code, unused_imports)]
#[path = "src/config/mod.rs"]
mod config;

/// `config` names `crate::VERSION`; the man page gets the full one.
const VERSION: &str = env!("CARGO_PKG_VERSION");

const PROTO_ROOT: &str = "proto";
const PROTO_FILES: &[&str] = &[
    "orders/v1/money.proto",
    "orders/v1/address.proto",
    "orders/v1/catalog.proto",
    "orders/v1/orders.proto",
    "orders/v1/events.proto",
    "orders/v1/audit.proto",
    "payments/v1/payments.proto",
    "payments/v1/events.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Rebuild when a proto changes, and when a migration changes: the
    // migrations are embedded into the binary with `embed_migrations!`.
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/notifications/migrations");
    println!("cargo:rerun-if-changed=src/payments/migrations");
    println!("cargo:rerun-if-changed=src/config");

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let (revision, date) = build_info();
    man_pages(&out_dir, &revision, &date)?;

    let descriptors = protox::Compiler::new([PROTO_ROOT])?
        .include_imports(true)
        .include_source_info(true)
        .open_files(PROTO_FILES)?
        .file_descriptor_set();

    fs::write(out_dir.join("orders_descriptor.bin"), descriptors.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}

/// The revision and the date, for `--version`. The revision is
/// `git rev-parse HEAD` where there is a `.git` (without a `-dirty` mark:
/// knowing about uncommitted changes would mean rerunning this script, and
/// rebuilding the crate, whenever git touches its index), else
/// `ORDERS_GIT_REVISION` from the environment (a packager building a source
/// tarball sets it), else `unknown`. The date is `SOURCE_DATE_EPOCH`'s
/// (reproducible builds) or today's, in UTC.
fn build_info() -> (String, String) {
    println!("cargo:rerun-if-env-changed=ORDERS_GIT_REVISION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // A new commit or checkout moves HEAD or the ref it names.
    for path in [".git/HEAD", ".git/packed-refs"] {
        if Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Ok(head) = fs::read_to_string(".git/HEAD")
        && let Some(reference) = head.strip_prefix("ref: ")
        && Path::new(".git").join(reference.trim()).exists()
    {
        println!("cargo:rerun-if-changed=.git/{}", reference.trim());
    }
    let revision = git_revision()
        .or_else(|| env::var("ORDERS_GIT_REVISION").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    let seconds = env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()));
    let date = civil_date(seconds);
    println!("cargo:rustc-env=ORDERS_GIT_REVISION={revision}");
    println!("cargo:rustc-env=ORDERS_BUILD_DATE={date}");
    (revision, date)
}

/// The man pages, in roff, in `OUT_DIR/man/`: `orders.1` and one per
/// subcommand (`orders-doctor.1`, `orders-jobs-list.1`, …), every flag with
/// its environment variable and default as `orders --help` shows them; and
/// `man_pages.rs`, which embeds them all for `orders man`.
fn man_pages(out_dir: &Path, revision: &str, date: &str) -> std::io::Result<()> {
    use clap::CommandFactory;
    // clap takes `&'static str` here (its `string` feature would take a
    // String); a build script lives a moment, so leaking is harmless.
    let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
    let version = leak(format!("{VERSION} (rev {revision}, built {date})"));
    let mut command = config::Cli::command()
        .version(version)
        .propagate_version(true)
        .disable_help_subcommand(true);
    command.build();
    let dir = out_dir.join("man");
    fs::create_dir_all(&dir)?;
    let mut pages = Vec::new();
    write_pages(command, &dir, leak(date.to_owned()), &mut pages)?;
    let entries: String = pages
        .iter()
        .map(|name| format!("    ({name:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/man/{name}\"))),\n"))
        .collect();
    let index = format!(
        "/// Every man page, by file name, `orders.1` first.\npub const MAN_PAGES: &[(&str, &str)] = &[\n{entries}];\n"
    );
    fs::write(out_dir.join("man_pages.rs"), index)
}

/// The page of `command`, then those of its subcommands, depth first.
fn write_pages(command: clap::Command, dir: &Path, date: &'static str, pages: &mut Vec<String>) -> std::io::Result<()> {
    let subcommands: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let path = clap_mangen::Man::new(command).date(date).generate_to(dir)?;
    pages.push(path.file_name().expect("a page file").to_string_lossy().into_owned());
    for subcommand in subcommands {
        write_pages(subcommand, dir, date, pages)?;
    }
    Ok(())
}

fn git_revision() -> Option<String> {
    // Not a checkout (a source tarball): no asking git, which would name
    // whatever repository the tarball was unpacked in.
    if !Path::new(".git").exists() {
        return None;
    }
    let output = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `YYYY-MM-DD` of a Unix time, in UTC (Howard Hinnant's days-to-civil).
fn civil_date(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
