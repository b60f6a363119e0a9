//! The text summary, laid out like ghz's so that the two read alike:
//! summary, latency percentiles, status code distribution, then one line per
//! request kind.

use std::fmt::Write;

use super::{Latency, Stats, Summary};

/// The summary as text; every line ends with a newline.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    overview(&mut out, summary);
    latency(&mut out, &summary.total.latency_us);
    statuses(&mut out, &summary.total);
    if summary.rpcs.len() > 1 {
        per_rpc(&mut out, &summary.rpcs);
    }
    out
}

fn overview(out: &mut String, summary: &Summary) {
    let run = &summary.run;
    let total = &summary.total;
    let workload = match run.workload.as_str() {
        "mix" => format!("mix ({})", run.mix),
        one => one.to_owned(),
    };
    let load = match run.target_rps {
        Some(rps) => format!("open loop at {rps} req/s, at most {} in flight", run.concurrency),
        None => format!("closed loop, {} callers", run.concurrency),
    };
    let error_share = percent(total.errors, total.count);
    let _ = writeln!(out, "Summary:");
    let _ = writeln!(out, "  Workload:     {workload}");
    let _ = writeln!(out, "  Load:         {load} over {} connections", run.connections);
    let _ = writeln!(out, "  Count:        {}", total.count);
    let _ = writeln!(out, "  Total:        {:.2} s", summary.duration_s);
    let _ = writeln!(out, "  Requests/s:   {:.2}", total.rps);
    let _ = writeln!(out, "  Errors:       {} ({error_share:.2}%)", total.errors);
}

fn latency(out: &mut String, latency: &Latency) {
    let _ = writeln!(out, "\nLatency (ms):");
    let rows = [
        ("p50", latency.p50),
        ("p90", latency.p90),
        ("p99", latency.p99),
        ("p99.9", latency.p99_9),
    ];
    for (name, micros) in rows.into_iter().chain([("max", latency.max)]) {
        let _ = writeln!(out, "  {name:<6}{}", millis(micros));
    }
    let _ = writeln!(out, "  {:<6}{:.3}", "mean", latency.mean / 1000.0);
}

fn statuses(out: &mut String, total: &Stats) {
    let _ = writeln!(out, "\nStatus code distribution:");
    for (name, count) in total.status.occurred() {
        let _ = writeln!(out, "  {:<24}{count} responses", format!("[{name}]"));
    }
}

fn per_rpc(out: &mut String, rpcs: &[(&str, Stats)]) {
    let _ = writeln!(out, "\nPer RPC:");
    let _ = writeln!(
        out,
        "  {:<19}{:>9}{:>10}{:>10}{:>10}{:>10}{:>8}",
        "RPC", "count", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for (name, stats) in rpcs {
        let l = &stats.latency_us;
        let _ = writeln!(
            out,
            "  {name:<19}{:>9}{:>10.1}{:>10}{:>10}{:>10}{:>8}",
            stats.count,
            stats.rps,
            millis(l.p50),
            millis(l.p99),
            millis(l.max),
            stats.errors
        );
    }
}

/// Microseconds as milliseconds with all three decimals (µs precision).
fn millis(micros: u64) -> String {
    format!("{}.{:03}", micros / 1000, micros % 1000)
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tonic::Code;

    use super::*;
    use crate::{
        report::{Recorder, Run},
        workloads::Kind,
    };

    /// 1000 health checks of 1..=1000 µs and 4 orders, ending 2 s after the start.
    fn summary() -> Summary {
        let start = Instant::now();
        let mut recorder = Recorder::default();
        for micros in 1..=1000 {
            recorder.record(Kind::Health, Duration::from_micros(micros), Code::Ok, start);
        }
        for code in [Code::Ok, Code::Ok, Code::FailedPrecondition, Code::DeadlineExceeded] {
            recorder.record(
                Kind::CreateOrder,
                Duration::from_millis(20),
                code,
                start + Duration::from_secs(2),
            );
        }
        let run = Run {
            workload: "mix".into(),
            mix: "create-order=1,health=9".into(),
            mode: "closed",
            concurrency: 16,
            connections: 4,
            target_rps: None,
        };
        Summary::new(run, &recorder, start)
    }

    #[test]
    fn the_text_summary_shows_counts_percentiles_and_codes() {
        let text = render(&summary());
        for expected in [
            "  Workload:     mix (create-order=1,health=9)\n",
            "  Load:         closed loop, 16 callers over 4 connections\n",
            "  Count:        1004\n  Total:        2.00 s\n  Requests/s:   502.00\n",
            "  Errors:       2 (0.20%)\n",
            // Ranks 502, 904, 994 and 1003 of 1004; 20 ms is stored as its bucket's top, 20.015.
            "  p50   0.502\n  p90   0.904\n  p99   0.994\n  p99.9 20.015\n  max   20.015\n",
            "  [OK]                    1002 responses\n  [DEADLINE_EXCEEDED]     1 responses\n",
            "  [FAILED_PRECONDITION]   1 responses\n",
            "  create-order               4       2.0    20.015    20.015    20.015       2\n",
            "  health                  1000     500.0     0.500     0.990     1.000       0\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn the_json_summary_is_one_object_with_codes_by_name() {
        let json: serde_json::Value = serde_json::from_str(&summary().to_json()).unwrap();
        assert_eq!(json["count"], 1004);
        assert_eq!(json["errors"], 2);
        assert_eq!(json["mode"], "closed");
        assert_eq!(json["latency_us"]["p99.9"], 20015);
        assert_eq!(
            json["status"],
            serde_json::json!({"OK": 1002, "DEADLINE_EXCEEDED": 1, "FAILED_PRECONDITION": 1})
        );
        let rpcs: Vec<_> = json["rpcs"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(rpcs, ["create-order", "health"]);
        assert_eq!(json["rpcs"]["health"]["latency_us"]["max"], 1000);
    }
}
