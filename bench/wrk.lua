-- wrk script for caregate's benchmark: the method, body and headers come from the environment, and the
-- summary prints p50/p95/p99 and the count of non-2xx answers in a form bench/run.sh parses.
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local cookie = os.getenv("BENCH_COOKIE")
local content_type = os.getenv("BENCH_CONTENT_TYPE") or "application/json"

wrk.method = method
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = content_type
end
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end

done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d seconds=%.3f non2xx=%d socket_errors=%d p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50.0) / 1000, latency:percentile(95.0) / 1000, latency:percentile(99.0) / 1000))
end
