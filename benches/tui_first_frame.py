#!/usr/bin/env python3
"""Time from launching `openclaw` (the TUI) to its first frame, in a 160x48 pseudo-terminal
(and the wall time of `openclaw --version`).

Usage: benches/tui_first_frame.py [--bin target/release/openclaw] [--runs 20]

The binary runs against a fresh state dir made by shared/conformance/rpc/make_home.py (a
`fake` provider; nothing is contacted before the first prompt). "First frame" is the moment
the composer's placeholder has been written to the terminal. Prints min/median/p90 in ms.
Build first: cargo build --release -p openclaw-cli
"""
import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def shared_dir():
    for cand in (os.environ.get("OPENCLAW_SHARED_DIR"), os.path.join(REPO, "..", "shared"), os.path.join(REPO, "..", "..", "shared")):
        if cand and os.path.exists(os.path.join(cand, "fake_llm.py")):
            return cand
    sys.exit("shared/ not found (set OPENCLAW_SHARED_DIR)")


def one_run(binary, home, cols=160, rows=48, marker=b"Ask anything"):
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ, HOME=home, OPENCLAW_STATE_DIR=os.path.join(home, ".openclaw"),
                   PI_CODING_AGENT_DIR=os.path.join(home, ".pi", "agent"), TERM="xterm-256color")
        os.chdir(home)
        os.execve(binary, [binary, "--provider", "fake", "--model", "fake-model"], env)
    start = time.perf_counter()
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    buf = b""
    elapsed = None
    deadline = start + 5
    while time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if fd in r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            buf += chunk
            if marker in buf:
                elapsed = (time.perf_counter() - start) * 1000
                break
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "openclaw"))
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    home = tempfile.mkdtemp(prefix="openclaw-bench-")
    subprocess.run([sys.executable, os.path.join(shared_dir(), "conformance", "rpc", "make_home.py"), "--port", "9", home], check=True)
    one_run(a.bin, home)  # warm the page cache
    times = [t for t in (one_run(a.bin, home) for _ in range(a.runs)) if t is not None]
    if not times:
        sys.exit("no frame seen")
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(f"first frame at 160x48: min {times[0]:.1f} ms, median {statistics.median(times):.1f} ms, p90 {p90:.1f} ms ({len(times)} runs)")
    version = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        subprocess.run([a.bin, "--version"], stdout=subprocess.DEVNULL, check=True)
        version.append((time.perf_counter() - t0) * 1000)
    version.sort()
    print(f"openclaw --version: min {version[0]:.1f} ms, median {statistics.median(version):.1f} ms")


if __name__ == "__main__":
    main()
