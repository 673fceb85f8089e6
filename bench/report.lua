-- wrk script for `make bench` (bench/run.sh): prints one machine-parseable
-- line after wrk's normal report, e.g.
--   BENCH_RESULT requests=123 duration_s=10.000 rps=12.3 p50_ms=1.234 p99_ms=5.678 ...
--
-- Only the done() hook is defined, on purpose: defining request()/response()
-- makes wrk call into Lua for every request, which lowers how much load wrk
-- can generate, and on a 2-core machine wrk already competes with the server.
--
-- Counters, as wrk defines them:
--   requests       responses received completely (any status)
--   status_errors  responses with status >= 400 (wrk has no per-status counts;
--                  run.sh checks separately that /count answers 200, so
--                  requests - status_errors = number of 200s)
--   connect/read/write/timeout_errors  socket-level failures (no response)
-- Latencies from wrk are in microseconds; printed here in milliseconds.

done = function(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT requests=%d duration_s=%.3f rps=%.1f" ..
      " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f" ..
      " status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeout_errors=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      e.status, e.connect, e.read, e.write, e.timeout))
end
