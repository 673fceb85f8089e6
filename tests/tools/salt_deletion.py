"""What the salt-deletion tests share (tests/integration/test_salts_without_traffic.py for serve,
tests/lambda/test_lambda_salts_clock.py for the Lambda runtime): footfall's wall clock moved by
libfaketime, and a visitor hash recomputed from a salt. Python 3 stdlib.

The clock: LD_PRELOAD of Debian's libfaketimeMT with FAKETIME="@<date>" starts the process's wall
clock at <date> and lets it run (footfall keeps its own PID, unlike the `faketime` wrapper, which
forks). The monotonic clock is left real (FAKETIME_DONT_FAKE_MONOTONIC=1): footfall's timers wait
on it, as they would on a real machine.
"""

import calendar
import hashlib
import hmac
import os
import struct
import time

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def fake_clock(at):
    """Environment that starts footfall's wall clock at `at` ("YYYY-MM-DD hh:mm:ss", UTC).
    Raises AssertionError if libfaketime is not installed."""
    if not os.path.exists(LIBFAKETIME):
        raise AssertionError(f"{LIBFAKETIME} is missing: run scripts/install-deps.sh "
                             "(Debian package libfaketime)")
    return {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": "@" + at, "TZ": "UTC",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def epoch_s(at):
    """`at` ("YYYY-MM-DD hh:mm:ss", UTC) in seconds since the epoch."""
    return calendar.timegm(time.strptime(at, "%Y-%m-%d %H:%M:%S"))


def _length_prefixed(text):
    data = text.encode()
    return struct.pack(">I", len(data)) + data


def visitor_hash(salt, address, user_agent, site):
    """footfall's visitor hash (src/core/visit_identity.h), recomputed from a salt: lower-case
    hex of the first 128 bits of HMAC-SHA256(salt, len‖address ‖ len‖user_agent ‖ len‖site)."""
    message = _length_prefixed(address) + _length_prefixed(user_agent) + _length_prefixed(site)
    return hmac.new(salt, message, hashlib.sha256).hexdigest()[:32]
