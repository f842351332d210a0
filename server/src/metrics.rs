//! `/metrics`: this process's counters in the OpenMetrics text format, kept and written by `prometheus-client`.
//!
//! The seam with the domain: the domain says what happened, this module decides how it is counted, bucketed and
//! exported, so no crate but this one knows the exporter.
//! * The key verifier (`domain::keys::verifier`) reports each check (warm, or cold with its argon2 time) and
//!   each throttled attempt to its [`VerifierObserver`], which [`PrometheusMetrics`] is.
//! * The server's own events are counted where they happen, through the state's [`Metrics`] (which this type
//!   implements): outcome codes in the API-key layer (`api::key_auth`), tool calls in the MCP endpoint
//!   (`mcp::tools`).
//! * The activity writer keeps plain counters of its own ([`WriterStats`], which its tests read too); they are
//!   read here at each scrape.
//!
//! Each app state has its own [`PrometheusMetrics`] with its own [`Registry`] (no global recorder), so apps
//! running side by side in one process — the integration tests do — each report only their own numbers.
//! A new metric is a field and one `register` call in [`PrometheusMetrics::new`]; names, label escaping and the
//! format are the crate's.
use std::fmt;
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use domain::activity_writer::WriterStats;
use domain::keys::verifier::{Check, VerifierObserver};
use http::header::CONTENT_TYPE;
use http::StatusCode;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry, Unit};

use app::state::{AppState, Metrics};

use crate::mcp::scopes::Tool;

/// The exposition's media type: OpenMetrics text, which Prometheus scrapes as it is.
pub const CONTENT_TYPE_OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the argon2 time buckets, in seconds. One argon2id run (m=19 MiB, t=2) takes tens of
/// milliseconds on a free core; the upper buckets show CPU contention.
const ARGON2_BUCKETS_SECONDS: [f64; 5] = [0.010, 0.025, 0.050, 0.100, 0.250];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PathLabel {
    path: &'static str,
}

/// Only tools that exist are counted, so the label's values are the tool table's names (no copy per call).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabel {
    tool: &'static str,
}

/// One process's metrics (see the module documentation).
pub struct PrometheusMetrics {
    registry: Registry,
    key_verifications: Family<CodeLabel, Counter>,
    key_throttled: Counter,
    argon2_seconds: Histogram,
    mcp_tool_calls: Family<ToolLabel, Counter>,
    /// The counters every API request moves, kept at hand: a family's lookup takes a lock and hashes the label,
    /// a kept counter is one atomic add. "ok" and each tool appear once first counted, as the family's would.
    verified_ok: OnceLock<Counter>,
    warm_checks: Counter,
    cold_checks: Counter,
    tool_counters: [OnceLock<Counter>; Tool::ALL.len()],
}

/// Registers `metric` under `name` (counters get their `_total` from the encoder, and `help` its closing
/// period from the registry) and hands it back.
fn register<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl PrometheusMetrics {
    /// The metrics of a process whose activity writer counts into `activity`.
    pub fn new(activity: Arc<WriterStats>) -> Self {
        let mut registry = Registry::default();
        let argon2_seconds = Histogram::new(ARGON2_BUCKETS_SECONDS);
        registry.register_with_unit("caregate_argon2", "Time spent in argon2id key verification", Unit::Seconds, argon2_seconds.clone());
        registry.register_collector(Box::new(ActivityWriterCounters(activity)));
        let key_checks: Family<PathLabel, Counter> =
            register(&mut registry, "caregate_key_checks", "Verifications that skipped argon2 (warm) or ran it (cold)", Family::default());
        // Both paths are reported from the start, so a scrape before the first check already shows them at 0.
        let warm_checks = key_checks.get_or_create(&PathLabel { path: "warm" }).clone();
        let cold_checks = key_checks.get_or_create(&PathLabel { path: "cold" }).clone();
        PrometheusMetrics {
            key_verifications: register(&mut registry, "caregate_key_verifications", "API key verifications by outcome code", Family::default()),
            key_throttled: register(&mut registry, "caregate_key_throttled", "Attempts refused with 429 before any argon2 work", Counter::default()),
            mcp_tool_calls: register(&mut registry, "caregate_mcp_tool_calls", "MCP tools/call requests by tool", Family::default()),
            argon2_seconds,
            registry,
            verified_ok: OnceLock::new(),
            warm_checks,
            cold_checks,
            tool_counters: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl VerifierObserver for PrometheusMetrics {
    fn checked(&self, check: Check) {
        match check {
            Check::Warm => {
                self.warm_checks.inc();
            }
            Check::Cold { argon2 } => {
                self.cold_checks.inc();
                self.argon2_seconds.observe(argon2.as_secs_f64());
            }
        }
    }

    fn throttled(&self) {
        self.key_throttled.inc();
    }
}

impl Metrics for PrometheusMetrics {
    fn key_verified(&self, code: &'static str) {
        if code == "ok" {
            self.verified_ok.get_or_init(|| self.key_verifications.get_or_create(&CodeLabel { code }).clone()).inc();
        } else {
            self.key_verifications.get_or_create(&CodeLabel { code }).inc();
        }
    }

    fn tool_called(&self, tool: &str) {
        if let Some(index) = Tool::ALL.iter().position(|known| known.name() == tool) {
            let name = Tool::ALL[index].name();
            self.tool_counters[index].get_or_init(|| self.mcp_tool_calls.get_or_create(&ToolLabel { tool: name }).clone()).inc();
        }
    }

    fn encode(&self, out: &mut String) -> fmt::Result {
        prometheus_client::encoding::text::encode(out, &self.registry)
    }
}

/// The activity writer's counters, read at each scrape.
struct ActivityWriterCounters(Arc<WriterStats>);

impl fmt::Debug for ActivityWriterCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivityWriterCounters")
    }
}

impl Collector for ActivityWriterCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        use std::sync::atomic::Ordering::Relaxed;
        let stats = &self.0;
        let events = [("written", stats.written.load(Relaxed)), ("lost", stats.lost.load(Relaxed))];
        let help = "Activity events written in batches, or lost after retries.";
        let mut family = encoder.encode_descriptor("caregate_activity_events", help, None, ConstCounter::<u64>::default().metric_type())?;
        for (result, count) in events {
            ConstCounter::new(count).encode(family.encode_family(&[("result", result)])?)?;
        }
        let batches = ConstCounter::new(stats.batches.load(Relaxed));
        batches.encode(encoder.encode_descriptor("caregate_activity_batches", "Batched activity INSERTs.", None, batches.metric_type())?)
    }
}

/// `GET /metrics` on the internal listener.
pub async fn render(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    match state.metrics.encode(&mut out) {
        Ok(()) => ([(CONTENT_TYPE, CONTENT_TYPE_OPENMETRICS)], out).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "could not encode /metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn exposition(metrics: &PrometheusMetrics) -> String {
        let mut out = String::new();
        metrics.encode(&mut out).unwrap();
        out
    }

    #[test]
    fn argon2_durations_land_in_their_buckets() {
        let metrics = PrometheusMetrics::new(Arc::default());
        metrics.checked(Check::Cold { argon2: Duration::from_millis(30) });
        metrics.checked(Check::Cold { argon2: Duration::from_millis(400) });
        let text = exposition(&metrics);
        for line in [
            "caregate_argon2_seconds_bucket{le=\"0.025\"} 0",
            "caregate_argon2_seconds_bucket{le=\"0.05\"} 1",
            "caregate_argon2_seconds_bucket{le=\"0.25\"} 1",
            "caregate_argon2_seconds_bucket{le=\"+Inf\"} 2",
            "caregate_argon2_seconds_count 2",
            "caregate_key_checks_total{path=\"cold\"} 2",
            "caregate_key_checks_total{path=\"warm\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        let sum: f64 = text.lines().find_map(|l| l.strip_prefix("caregate_argon2_seconds_sum ")).unwrap().parse().unwrap();
        assert!((sum - 0.43).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn an_untouched_process_reports_its_counters_at_zero_with_help_and_ends_with_eof() {
        let text = exposition(&PrometheusMetrics::new(Arc::default()));
        for line in [
            "# HELP caregate_key_checks Verifications that skipped argon2 (warm) or ran it (cold).",
            "# TYPE caregate_key_checks counter",
            "caregate_key_checks_total{path=\"warm\"} 0",
            "caregate_key_checks_total{path=\"cold\"} 0",
            "caregate_key_throttled_total 0",
            "caregate_argon2_seconds_count 0",
            "caregate_activity_events_total{result=\"written\"} 0",
            "caregate_activity_events_total{result=\"lost\"} 0",
            "caregate_activity_batches_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn tools_are_counted_under_the_tool_tables_names_and_nothing_else_becomes_a_label() {
        let metrics = PrometheusMetrics::new(Arc::default());
        metrics.tool_called("whoami");
        metrics.tool_called("whoami");
        metrics.tool_called("a\"b\\c\nd");
        let text = exposition(&metrics);
        assert!(text.contains("caregate_mcp_tool_calls_total{tool=\"whoami\"} 2"), "{text}");
        assert_eq!(text.lines().filter(|line| line.starts_with("caregate_mcp_tool_calls_total")).count(), 1, "{text}");
    }

    #[test]
    fn kept_counters_are_the_families_own() {
        let metrics = PrometheusMetrics::new(Arc::default());
        metrics.key_verified("ok");
        metrics.key_verified("ok");
        metrics.key_verified("revoked_key");
        metrics.checked(Check::Warm);
        let text = exposition(&metrics);
        for line in [
            "caregate_key_verifications_total{code=\"ok\"} 2",
            "caregate_key_verifications_total{code=\"revoked_key\"} 1",
            "caregate_key_checks_total{path=\"warm\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
