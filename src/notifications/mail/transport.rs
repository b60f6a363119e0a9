//! Where emails go: an SMTP server (`--smtp-url`), or `.eml` files in a
//! folder when none is configured, so a new user can open what was sent.
//!
//! A send's failure says whether trying again can help: an SMTP 5xx answer
//! (a mailbox that does not exist, a refused sender) is permanent; a 4xx
//! answer, a refused connection or a timeout is transient.

use std::path::PathBuf;

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor, address::Envelope,
    transport::smtp::Error as SmtpError,
};

use crate::config::SecretUrl;

/// A configured way to deliver emails.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// Why an email was not delivered.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// Retrying cannot help (SMTP 5xx).
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    /// SMTP at `url` (`smtp://host:port`, `smtps://user:password@host`,
    /// `smtp://host?tls=required` for STARTTLS), else files in `mail_dir`.
    pub fn new(url: Option<&SecretUrl>, mail_dir: PathBuf) -> Result<Self, String> {
        match url {
            Some(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("--smtp-url {url}: {e}"))?;
                Ok(Mailer::Smtp(
                    builder.timeout(Some(std::time::Duration::from_secs(10))).build(),
                ))
            }
            None => {
                std::fs::create_dir_all(&mail_dir).map_err(|e| format!("--mail-dir {}: {e}", mail_dir.display()))?;
                Ok(Mailer::Files(AsyncFileTransport::new(&mail_dir), mail_dir))
            }
        }
    }

    /// Where emails go, for the start-up log line (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "SMTP (--smtp-url)".to_owned(),
            Mailer::Files(_, dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Whether emails can leave now: the SMTP server answers (a greeting
    /// and `NOOP`), or the folder takes a file. The error is one line.
    pub async fn check(&self) -> Result<(), String> {
        match self {
            Mailer::Smtp(smtp) => match smtp.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("the SMTP server did not answer NOOP".to_owned()),
                Err(e) => Err(crate::tls::error_chain(&e)),
            },
            Mailer::Files(_, dir) => {
                let probe = dir.join(format!(".orders-write-check-{}", std::process::id()));
                std::fs::write(&probe, b"").map_err(|e| format!("cannot write to {}: {e}", dir.display()))?;
                let _ = std::fs::remove_file(probe);
                Ok(())
            }
        }
    }

    /// Sends the stored MIME bytes `message` to `envelope`.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(smtp) => smtp.send_raw(envelope, message).await.map(drop).map_err(smtp_error),
            Mailer::Files(files, _) => files
                .send_raw(envelope, message)
                .await
                .map(drop)
                .map_err(|e| SendError {
                    permanent: false,
                    message: format!("writing the .eml file: {e}"),
                }),
        }
    }
}

fn smtp_error(error: SmtpError) -> SendError {
    SendError {
        permanent: error.is_permanent(),
        message: error.to_string(),
    }
}
