//! What `orders doctor` found: one [`Check`] per dependency, printed as one
//! line each for people or as JSON for machines.

use serde::Serialize;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Ready, or `orders serve` sets it up by itself (a database it creates).
    Ok,
    /// `orders serve` would fail, or misbehave, because of it.
    Fail,
    /// Could not be checked: what it needs is missing or not running yet
    /// (the line says which).
    Skip,
}

/// One dependency, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable name, e.g. `postgres`, `orders-db`, `nats`.
    pub name: &'static str,
    pub status: Status,
    /// What was found, on one line.
    pub detail: String,
    /// What to do about a failure.
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn skip(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Skip,
            detail: detail.into(),
            fix: None,
        }
    }

    /// `ok    postgres          PostgreSQL 15.14 at …`, with the fix after
    /// ` -> `; the status in green, red or yellow when `color` is on.
    pub fn line(&self, color: bool) -> String {
        let (word, ansi) = match self.status {
            Status::Ok => ("ok", "32"),
            Status::Fail => ("FAIL", "31"),
            Status::Skip => ("skip", "33"),
        };
        let word = match color {
            true => format!("\x1b[1;{ansi}m{word:<4}\x1b[0m"),
            false => format!("{word:<4}"),
        };
        let mut line = format!("{word}  {:<16}  {}", self.name, self.detail);
        if let Some(fix) = &self.fix {
            line.push_str(" -> ");
            line.push_str(fix);
        }
        line
    }
}

/// Every check of one run, in the order they ran.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn add(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// True when no check failed (skipped ones wait for `orders serve` to
    /// start what they need).
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|check| check.status != Status::Fail)
    }

    /// One line per check, then a summary line.
    pub fn text(&self, color: bool) -> String {
        let mut out: String = self.checks.iter().map(|c| c.line(color) + "\n").collect();
        let failed = self.checks.iter().filter(|c| c.status == Status::Fail).count();
        out.push_str(&match failed {
            0 => format!("all {} checks passed\n", self.checks.len()),
            n => format!("{n} of {} checks failed\n", self.checks.len()),
        });
        out
    }

    /// `{"healthy": …, "checks": [{"name", "status", "detail", "fix"}, …]}`.
    pub fn json(&self) -> String {
        let value = serde_json::json!({ "healthy": self.healthy(), "checks": self.checks });
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_its_fix_on_the_same_line() {
        let check = Check::fail("nats", "cannot connect to NATS at nats://127.0.0.1:1", "start it");
        assert_eq!(
            check.line(false),
            "FAIL  nats              cannot connect to NATS at nats://127.0.0.1:1 -> start it"
        );
        assert_eq!(
            check.line(true),
            "\x1b[1;31mFAIL\x1b[0m  nats              cannot connect to NATS at nats://127.0.0.1:1 -> start it"
        );
    }

    #[test]
    fn skipped_checks_do_not_fail_the_report_and_failed_ones_do() {
        let mut report = Report::default();
        report.add(Check::ok("postgres", "up"));
        report.add(Check::skip("clock", "PostgreSQL starts with `orders serve`"));
        assert!(report.healthy());
        assert!(report.text(false).ends_with("all 2 checks passed\n"));
        report.add(Check::fail("nats", "down", "start it"));
        assert!(!report.healthy());
        assert!(report.text(false).ends_with("1 of 3 checks failed\n"));
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["healthy"], false);
        assert_eq!(json["checks"][1]["status"], "skip");
        assert_eq!(json["checks"][2]["fix"], "start it");
        assert_eq!(json["checks"][0]["fix"], serde_json::Value::Null);
    }
}
