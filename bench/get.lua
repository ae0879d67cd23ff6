-- wrk script: GET the URL as given (with `X-Session-Id: $SV_TOKEN` when set), and report
-- throughput and latency percentiles as one JSON line.
local token = os.getenv("SV_TOKEN")
if token and token ~= "" then
  wrk.headers["X-Session-Id"] = token
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "rps": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
