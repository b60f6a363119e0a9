//! Settings of the notifications service: its own database, and how its
//! emails leave.

use std::path::PathBuf;

use clap::Args;
use lettre::message::Mailbox;

use super::SecretUrl;

#[derive(Debug, Clone, Args)]
pub struct NotificationSettings {
    /// PostgreSQL URL of the notifications service's own database. Default:
    /// `<orders database>_notifications` on the orders database's server,
    /// created if missing.
    #[arg(
        long,
        env = "ORDERS_NOTIFICATIONS_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub notifications_database_url: Option<SecretUrl>,

    /// SMTP server for the emails: smtp://host:25 (STARTTLS when the server
    /// offers it; `?tls=required` insists), smtps://user:password@host:465.
    /// Without it, emails are written as .eml files to --mail-dir.
    #[arg(long, env = "ORDERS_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<SecretUrl>,

    /// The sender of every email, e.g. "Shop <orders@shop.example>".
    #[arg(
        long,
        env = "ORDERS_MAIL_FROM",
        default_value = "Orders <orders@localhost>",
        global = true
    )]
    pub mail_from: Mailbox,

    /// Where emails are written when no --smtp-url is set. Default: `mail/`
    /// beside the PostgreSQL data directory (see --data-dir).
    #[arg(long, env = "ORDERS_MAIL_DIR", global = true)]
    pub mail_dir: Option<PathBuf>,
}
