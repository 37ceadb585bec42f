-- wrk script: print one JSON line with what bench/run needs (wrk --latency has no p95).
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH {"rps": %.2f, "p50": %.3f, "p95": %.3f, "p99": %.3f, "requests": %d, "errors": %d}\n',
    summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, errors))
end
