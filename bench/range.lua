-- wrk script: GET random 1 MiB ranges of a file of FILE_SIZE bytes, and report throughput and
-- latency percentiles as one JSON line.
local size = tonumber(os.getenv("FILE_SIZE"))
local chunk = 1024 * 1024
math.randomseed(os.time())

request = function()
  local start = math.random(0, size - chunk)
  wrk.headers["Range"] = "bytes=" .. start .. "-" .. (start + chunk - 1)
  return wrk.format("GET", wrk.path)
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "rps": %.1f, "mib_per_s": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.requests / secs, summary.bytes / secs / 1048576,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
