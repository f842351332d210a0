//! `/metrics`: Prometheus text format — key verification outcomes, warm/cold checks, argon2 time, throttled
//! attempts, MCP calls by tool and the batched activity writer. Counters are per process.
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::response::IntoResponse;
use domain::keys::verifier::ARGON2_BUCKETS_MS;
use http::header::CONTENT_TYPE;

use app::state::AppState;

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let stats = &state.verifier.stats;
    let mut out = String::new();
    out.push_str("# HELP caregate_key_verifications_total API key verifications by outcome code.\n# TYPE caregate_key_verifications_total counter\n");
    if let Ok(outcomes) = stats.outcomes.lock() {
        let mut outcomes: Vec<_> = outcomes.iter().collect();
        outcomes.sort();
        for (code, count) in outcomes {
            out.push_str(&format!("caregate_key_verifications_total{{code=\"{code}\"}} {count}\n"));
        }
    }
    out.push_str(
        "# HELP caregate_key_checks_total Verifications that skipped argon2 (warm) or ran it (cold).\n# TYPE caregate_key_checks_total counter\n",
    );
    out.push_str(&format!("caregate_key_checks_total{{path=\"warm\"}} {}\n", stats.warm.load(Ordering::Relaxed)));
    out.push_str(&format!("caregate_key_checks_total{{path=\"cold\"}} {}\n", stats.cold.load(Ordering::Relaxed)));
    out.push_str(
        "# HELP caregate_key_throttled_total Attempts refused with 429 before any argon2 work.\n# TYPE caregate_key_throttled_total counter\n",
    );
    out.push_str(&format!("caregate_key_throttled_total {}\n", stats.throttled.load(Ordering::Relaxed)));
    out.push_str("# HELP caregate_argon2_seconds Time spent in argon2id key verification.\n# TYPE caregate_argon2_seconds histogram\n");
    let mut cumulative = 0;
    for (index, limit) in ARGON2_BUCKETS_MS.iter().enumerate() {
        cumulative += stats.argon2_buckets[index].load(Ordering::Relaxed);
        out.push_str(&format!("caregate_argon2_seconds_bucket{{le=\"{}\"}} {cumulative}\n", *limit as f64 / 1000.0));
    }
    cumulative += stats.argon2_buckets[ARGON2_BUCKETS_MS.len()].load(Ordering::Relaxed);
    out.push_str(&format!("caregate_argon2_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n"));
    out.push_str(&format!("caregate_argon2_seconds_sum {}\n", stats.argon2_micros.load(Ordering::Relaxed) as f64 / 1_000_000.0));
    out.push_str(&format!("caregate_argon2_seconds_count {cumulative}\n"));
    out.push_str("# HELP caregate_mcp_tool_calls_total MCP tools/call requests by tool.\n# TYPE caregate_mcp_tool_calls_total counter\n");
    if let Ok(calls) = stats.tool_calls.lock() {
        let mut calls: Vec<_> = calls.iter().collect();
        calls.sort();
        for (tool, count) in calls {
            out.push_str(&format!("caregate_mcp_tool_calls_total{{tool=\"{tool}\"}} {count}\n"));
        }
    }
    let writer = &state.activity.stats;
    out.push_str("# HELP caregate_activity_events_total Activity events written in batches, or lost after retries.\n# TYPE caregate_activity_events_total counter\n");
    out.push_str(&format!("caregate_activity_events_total{{result=\"written\"}} {}\n", writer.written.load(Ordering::Relaxed)));
    out.push_str(&format!("caregate_activity_events_total{{result=\"lost\"}} {}\n", writer.lost.load(Ordering::Relaxed)));
    out.push_str("# HELP caregate_activity_batches_total Batched activity INSERTs.\n# TYPE caregate_activity_batches_total counter\n");
    out.push_str(&format!("caregate_activity_batches_total {}\n", writer.batches.load(Ordering::Relaxed)));
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
