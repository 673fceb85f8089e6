"""What every store fault test checks, whatever the engine behind the fault proxy
(tests/tools/fault_proxy.py): a mixin for unittest.TestCase classes that set `self.proxy`.

run_fault(srv, label, mode, **params) puts the proxy in `mode`, then requires: GET /count answers
503 store_unavailable with Retry-After: 1 within ANSWER_BOUND_S; /readyz says not ready and
/metrics shows the failed operation and footfall_store_ready 0; the server is still running; once
the proxy passes traffic again, /count answers 200 within RECOVERY_S; and the outage was one
"store unavailable" log line and one "store available again" (not a line per failed call).
Figures (seconds to the 503, seconds to recover) collect in self.measured[label]."""
import sys
import time

from harness import request

# How soon after the fault ends /count must answer 200 again. A refused or reset connection is
# dropped from the pool at once; the next request opens a new one.
RECOVERY_S = 5.0
# The store's call budget (10 s) plus the HTTP round trip: the longest a request may wait.
ANSWER_BOUND_S = 11.0


def metric(text, name, labels=""):
    for line in text.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    return None


class FaultChecks:
    def wait_for_count_200(self, srv):
        started = time.monotonic()
        while True:
            response = request(srv.port, "GET", "/count")
            if response.status == 200:
                return time.monotonic() - started
            self.assertLess(time.monotonic() - started, RECOVERY_S,
                            f"no 200 within {RECOVERY_S} s of the fault's end: {response.body!r}")
            time.sleep(0.05)

    @staticmethod
    def outage_lines(srv):
        events = [e for e in srv.stderr_events() if isinstance(e, dict)]
        return ([e for e in events if e.get("msg") == "store unavailable"],
                [e for e in events if e.get("msg") == "store available again"])

    def run_fault(self, srv, label, mode, probe_may_succeed=False, **params):
        """`probe_may_succeed`: the fault spares what a readiness probe asks (e.g. a well-formed
        DynamoDB answer without an Item), so /readyz and footfall_store_ready are not checked."""
        if not hasattr(self, "measured"):
            self.measured = {}
        before_down, before_up = (len(x) for x in self.outage_lines(srv))
        self.proxy.set_mode(mode, **params)
        started = time.monotonic()
        response = request(srv.port, "GET", "/count")
        elapsed = time.monotonic() - started
        self.assertEqual(response.status, 503, f"{label}: {response.body!r}")
        self.assertEqual(response.json()["error"], "store_unavailable", label)
        self.assertEqual(response.header("Retry-After"), "1", label)
        self.assertLess(elapsed, ANSWER_BOUND_S, label)
        if not probe_may_succeed:
            self.assertEqual(request(srv.port, "GET", "/readyz").status, 503, label)
        self.assertTrue(srv.running, f"{label}: the server died")
        metrics = request(srv.port, "GET", "/metrics").body.decode()
        self.assertGreater(metric(metrics, "footfall_store_operations_total",
                                  '{operation="record_visit",result="error"}') or 0, 0, label)
        if not probe_may_succeed:
            self.assertEqual(metric(metrics, "footfall_store_ready"), 0, label)
        self.proxy.set_mode("pass")
        recovered_s = self.wait_for_count_200(srv)
        # One line when the outage began, one when it ended (a probe that succeeds on the way, as
        # /readyz on an answer without an Item, may split it in two).
        # The log is written by a background thread: wait for the line that ends the outage.
        deadline = time.monotonic() + 5
        while True:
            down, up = self.outage_lines(srv)
            began, ended = len(down) - before_down, len(up) - before_up
            if (began >= 1 and ended >= began) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertIn(len(down) - before_down, (1, 2), f"{label}: {down[before_down:]}")
        self.assertEqual(len(down) - before_down, len(up) - before_up, label)
        self.measured[label] = (round(elapsed, 2), round(recovered_s, 2))

    def report_measured(self):
        sys.stderr.write("\nfault: (seconds to the 503, seconds to recover)\n")
        for label, figures in getattr(self, "measured", {}).items():
            sys.stderr.write(f"  {label}: {figures}\n")
