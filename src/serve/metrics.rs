//! The server's counters, rendered as Prometheus text (`GET /metrics`): requests by route and
//! status, a latency histogram, signatures and refusals per key, HSM (key) errors, audit
//! failures, and the queue.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency bucket bounds, seconds (Prometheus `le`).
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

#[derive(Default)]
pub struct Metrics {
    /// (route, status) → count.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Per bucket (cumulative at render), plus sum and count.
    latency: Mutex<([u64; BUCKETS.len()], f64, u64)>,
    /// (key, outcome) → count; outcome `signed` or `refused`.
    signatures: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// key → signing errors (HSM or key file).
    key_errors: Mutex<BTreeMap<String, u64>>,
    pub audit_failures: AtomicU64,
    pub busy: AtomicU64,
    pub in_flight: AtomicU64,
    pub waiting: AtomicU64,
}

fn bump<K: Ord>(m: &Mutex<BTreeMap<K, u64>>, k: K) {
    if let Ok(mut m) = m.lock() {
        let v = m.entry(k).or_insert(0);
        *v = v.saturating_add(1);
    }
}

impl Metrics {
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        bump(&self.requests, (route.to_owned(), status));
        if let Ok(mut l) = self.latency.lock() {
            let s = took.as_secs_f64();
            if let Some(i) = BUCKETS.iter().position(|b| s <= *b) {
                if let Some(c) = l.0.get_mut(i) {
                    *c = c.saturating_add(1);
                }
            }
            l.1 += s;
            l.2 = l.2.saturating_add(1);
        }
    }

    pub fn signature(&self, key: &str, outcome: &'static str) {
        bump(&self.signatures, (key.to_owned(), outcome));
    }

    pub fn key_error(&self, key: &str) {
        bump(&self.key_errors, key.to_owned());
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        let esc = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        writeln!(
            out,
            "# HELP bingate_requests_total HTTP requests by route and status."
        )?;
        writeln!(out, "# TYPE bingate_requests_total counter")?;
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                writeln!(
                    out,
                    "bingate_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    esc(route)
                )?;
            }
        }
        writeln!(out, "# HELP bingate_request_seconds Request latency.")?;
        writeln!(out, "# TYPE bingate_request_seconds histogram")?;
        if let Ok(l) = self.latency.lock() {
            let mut cumulative = 0u64;
            for (b, n) in BUCKETS.iter().zip(l.0.iter()) {
                cumulative = cumulative.saturating_add(*n);
                writeln!(
                    out,
                    "bingate_request_seconds_bucket{{le=\"{b}\"}} {cumulative}"
                )?;
            }
            writeln!(out, "bingate_request_seconds_bucket{{le=\"+Inf\"}} {}", l.2)?;
            writeln!(out, "bingate_request_seconds_sum {}", l.1)?;
            writeln!(out, "bingate_request_seconds_count {}", l.2)?;
        }
        writeln!(
            out,
            "# HELP bingate_signatures_total Signatures made and requests refused, per key."
        )?;
        writeln!(out, "# TYPE bingate_signatures_total counter")?;
        if let Ok(m) = self.signatures.lock() {
            for ((key, outcome), n) in m.iter() {
                writeln!(
                    out,
                    "bingate_signatures_total{{key=\"{}\",outcome=\"{outcome}\"}} {n}",
                    esc(key)
                )?;
            }
        }
        writeln!(
            out,
            "# HELP bingate_key_errors_total Signing errors per key (HSM or key file)."
        )?;
        writeln!(out, "# TYPE bingate_key_errors_total counter")?;
        if let Ok(m) = self.key_errors.lock() {
            for (key, n) in m.iter() {
                writeln!(out, "bingate_key_errors_total{{key=\"{}\"}} {n}", esc(key))?;
            }
        }
        let gauge = |out: &mut dyn std::fmt::Write, name: &str, help: &str, kind: &str, v: u64| {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} {kind}")?;
            writeln!(out, "{name} {v}")
        };
        gauge(
            out,
            "bingate_audit_failures_total",
            "Requests failed because the audit record could not be written (nothing was signed).",
            "counter",
            self.audit_failures.load(Ordering::Relaxed),
        )?;
        gauge(
            out,
            "bingate_busy_total",
            "Requests answered 503 because every signing slot and the queue were taken.",
            "counter",
            self.busy.load(Ordering::Relaxed),
        )?;
        gauge(
            out,
            "bingate_in_flight",
            "Signing operations running.",
            "gauge",
            self.in_flight.load(Ordering::Relaxed),
        )?;
        gauge(
            out,
            "bingate_queue_waiting",
            "Requests waiting for a signing slot.",
            "gauge",
            self.waiting.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.request("/v1/sign/digest", 200, Duration::from_millis(3));
        m.request("/v1/sign/digest", 200, Duration::from_millis(30));
        m.request("/v1/keys", 401, Duration::from_secs(100));
        m.signature("release", "signed");
        let mut s = String::new();
        m.render(&mut s).unwrap();
        assert!(
            s.contains("bingate_requests_total{route=\"/v1/sign/digest\",status=\"200\"} 2"),
            "{s}"
        );
        assert!(
            s.contains("bingate_request_seconds_bucket{le=\"0.005\"} 1"),
            "{s}"
        );
        assert!(
            s.contains("bingate_request_seconds_bucket{le=\"0.05\"} 2"),
            "{s}"
        );
        assert!(
            s.contains("bingate_request_seconds_bucket{le=\"60\"} 2"),
            "{s}"
        );
        assert!(
            s.contains("bingate_request_seconds_bucket{le=\"+Inf\"} 3"),
            "{s}"
        );
        assert!(
            s.contains("bingate_signatures_total{key=\"release\",outcome=\"signed\"} 1"),
            "{s}"
        );
    }
}
