//! How the output of a README example is compared with what the README
//! shows: after normalising, JSON structurally (keys sorted by `jq -S`), text
//! with runs of white space squeezed to one space.
//!
//! A UUID in the README matches any UUID in the output, but consistently
//! across all the examples: two places with the same README UUID must show
//! the same actual UUID (that is how the idempotent replay is checked), and
//! different README UUIDs different ones. An RFC 3339 timestamp matches any
//! timestamp.
//!
//! Apart from the examples themselves because it is a small text matcher of
//! its own, with a unit test of its own.

use std::{collections::HashMap, process::Stdio};

use tokio::{io::AsyncWriteExt, process::Command};

/// Where two normalised outputs first differ, in a line.
pub fn first_difference(want: &str, got: &str) -> String {
    let (mut want_lines, mut got_lines) = (want.lines(), got.lines());
    for line in 1.. {
        match (want_lines.next(), got_lines.next()) {
            (None, None) => break,
            (w, g) if w != g => {
                let (w, g) = (w.unwrap_or("<end>"), g.unwrap_or("<end>"));
                return format!("first difference at output line {line}: expected `{w}`, got `{g}`");
            }
            _ => {}
        }
    }
    "the outputs match".to_owned()
}

/// `json` with sorted keys and jq's standard layout.
pub async fn jq_sorted(json: &str) -> Result<String, String> {
    let mut child = Command::new("jq")
        .args(["-S", "."])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not run jq (is it installed?): {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(json.as_bytes()).await.map_err(|e| e.to_string())?;
    drop(stdin);
    let output = child.wait_with_output().await.map_err(|e| e.to_string())?;
    match output.status.success() && !output.stdout.is_empty() {
        true => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

/// Each line's white space squeezed to single spaces, without blank lines
/// at the start or the end.
pub fn squeeze(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.join("\n").trim_matches('\n').to_owned()
}

/// Replaces UUIDs with `<uuid-N>` (N numbering distinct UUIDs in order of
/// first appearance, across every call), timestamps with `<timestamp>` and
/// etags (`"etag": "<16 hex digits>"`, which follow from the product's id)
/// with `<etag>`.
#[derive(Default)]
pub struct Placeholders {
    uuids: HashMap<String, usize>,
}

impl Placeholders {
    pub fn normalise(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(uuid) = rest.get(..36).filter(|s| is_uuid(s)) {
                let next = self.uuids.len() + 1;
                let n = *self.uuids.entry(uuid.to_ascii_lowercase()).or_insert(next);
                out.push_str(&format!("<uuid-{n}>"));
                rest = &rest[36..];
            } else if let Some(len) = timestamp_len(rest) {
                out.push_str("<timestamp>");
                rest = &rest[len..];
            } else if let Some(len) = etag_len(rest) {
                out.push_str("\"etag\": \"<etag>\"");
                rest = &rest[len..];
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }
}

/// Whether `bytes` starts with `shape`, where `d` stands for any digit.
fn has_shape(bytes: &[u8], shape: &[u8]) -> bool {
    bytes.len() >= shape.len()
        && shape.iter().zip(bytes).all(|(want, got)| {
            if *want == b'd' {
                got.is_ascii_digit()
            } else {
                want == got
            }
        })
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The length of the `"etag": "…"` pair at the start of `s`, if any.
fn etag_len(s: &str) -> Option<usize> {
    const KEY: &str = "\"etag\": \"";
    let value = s.strip_prefix(KEY)?.get(..17)?;
    let (hex, quote) = value.split_at(16);
    (hex.bytes().all(|b| b.is_ascii_hexdigit()) && quote == "\"").then_some(KEY.len() + 17)
}

/// The length of the RFC 3339 timestamp at the start of `s`, if any.
fn timestamp_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if !has_shape(bytes, b"dddd-dd-ddTdd:dd:dd") {
        return None;
    }
    let mut len = 19;
    if bytes.get(len) == Some(&b'.') {
        let digits = bytes[len + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        len += 1 + digits;
    }
    match bytes.get(len) {
        Some(b'Z') => Some(len + 1),
        Some(b'+' | b'-') if has_shape(&bytes[len + 1..], b"dd:dd") => Some(len + 6),
        _ => None,
    }
}

#[test]
fn placeholders_bind_uuids_consistently_and_match_any_timestamp() {
    let mut ids = Placeholders::default();
    let text = "a 01a207fe-42f0-7169-b1d3-79995697120b b 2026-11-23T10:40:33.520417Z c 2026-01-02T03:04:05+01:00";
    assert_eq!(ids.normalise(text), "a <uuid-1> b <timestamp> c <timestamp>");
    let later = "01A207FE-42F0-7169-B1D3-79995697120B 3f8e2a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b 2026-11-23T10:40";
    assert_eq!(ids.normalise(later), "<uuid-1> <uuid-2> 2026-11-23T10:40");
    let etags = r#""etag": "0123456789abcdef", "etag": "short""#;
    assert_eq!(ids.normalise(etags), r#""etag": "<etag>", "etag": "short""#);
}
