"""Start -> first answered request, for bench/run.sh.

usage: python3 bench/start_to_first_answer.py PORT URL_PATH LOG -- COMMAND...

Starts COMMAND (a server that will listen on 127.0.0.1:PORT), and polls GET URL_PATH with a
tight loop (connect, retry on refusal after 0.2 ms) until it answers 200. The clock starts right
before fork/exec, so the figure includes ~0.2-0.5 ms of Python's own spawn cost, the same for
every server measured this way. Then sends SIGTERM and times the exit too.

Prints "START_MS STOP_MS EXIT_STATUS" (exit status in shell terms: 143 = killed by the signal,
i.e. no graceful shutdown; 0 = clean exit). stdout and stderr of COMMAND go to LOG.
"""
import signal
import socket
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        sys.exit(__doc__)
    port, url_path, log_path, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[5:]
    # SIGTERM from run.sh's cleanup -> SystemExit -> `finally` stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    request = f"GET {url_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    with open(log_path, "ab") as log:
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            while True:
                if proc.poll() is not None:
                    sys.exit(f"{argv[0]} exited with code {proc.returncode} before answering {url_path}")
                if time.perf_counter_ns() - t0 > 10e9:
                    sys.exit(f"{argv[0]} did not answer {url_path} with 200 within 10 s")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                        s.sendall(request)
                        status_line = s.recv(64).split(b"\r\n", 1)[0]
                    if status_line.split(b" ")[1:2] == [b"200"]:
                        t1 = time.perf_counter_ns()
                        break
                except (OSError, IndexError):
                    pass
                time.sleep(0.0002)
        finally:
            t2 = time.perf_counter_ns()
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                print(f"bench: {argv[0]} ignored SIGTERM for 5 s during the start-up test; killed",
                      file=sys.stderr)
                proc.kill()
                proc.wait()
            t3 = time.perf_counter_ns()
    rc = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    print(f"{(t1 - t0) / 1e6:.2f} {(t3 - t2) / 1e6:.2f} {rc}")


if __name__ == "__main__":
    main()
