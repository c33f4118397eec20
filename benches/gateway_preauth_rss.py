#!/usr/bin/env python3
"""Peak RSS of an `openclaw gateway run` while N unauthenticated sockets each send one
25 MiB text frame (loopback only, bounded by a 60 s deadline); prints one JSON line.

  python3 benches/gateway_preauth_rss.py target/debug/openclaw [N=80] [ENV=VALUE ...]

e.g. `... 80 OPENCLAW_GATEWAY_MAX_PREAUTH=100` lets all 80 sockets wait at once. Measured
(debug builds, 2-core VM): 1,568 MB before the pre-auth limits held at the transport
(4fde9ed), 25 MB after (23 MB idle); SECURITY.md has the figures.
"""
import os, socket, subprocess, sys, tempfile, threading, time, json

bin_path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 80
extra_env = dict(kv.split("=", 1) for kv in sys.argv[3:])
FRAME = 25 * 1024 * 1024
DEADLINE = 60.0

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def rss_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0

work = tempfile.mkdtemp()
port = free_port()
with open(os.path.join(work, "openclaw.json"), "w") as f:
    json.dump({"gateway": {"port": port, "bind": "loopback", "handshakeTimeoutMs": 60000,
                           "auth": {"mode": "token", "token": "rss-token-0123456789"}}}, f)
env = dict(os.environ, OPENCLAW_STATE_DIR=work, **extra_env)
env.pop("OPENCLAW_CONFIG_PATH", None)
gw = subprocess.Popen([bin_path, "gateway", "run"], env=env,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close(); break
        except OSError:
            time.sleep(0.05)
    time.sleep(0.3)
    idle = rss_kb(gw.pid, "VmRSS")
    results = {"upgraded": 0, "refused": 0, "sent_full": 0, "cut_off": 0}
    lock = threading.Lock()
    start = time.time()

    def one():
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.settimeout(max(1.0, DEADLINE - (time.time() - start)))
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            with lock: results["refused"] += 1
            s.close(); return
        with lock: results["upgraded"] += 1
        hdr = bytes([0x81, 0x80 | 127]) + FRAME.to_bytes(8, "big") + b"\0\0\0\0"
        payload = b"a" * (1024 * 1024)
        try:
            s.sendall(hdr)
            for _ in range(FRAME // len(payload)):
                s.sendall(payload)
            with lock: results["sent_full"] += 1
            time.sleep(2)
        except OSError:
            with lock: results["cut_off"] += 1
        finally:
            s.close()

    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads: t.start()
    peak = idle
    while any(t.is_alive() for t in threads) and time.time() - start < DEADLINE:
        peak = max(peak, rss_kb(gw.pid, "VmRSS"))
        time.sleep(0.05)
    peak = max(peak, rss_kb(gw.pid, "VmHWM"))
    print(json.dumps({"bin": bin_path, "sockets": n, "idle_rss_mb": round(idle / 1024, 1),
                      "peak_rss_mb": round(peak / 1024, 1), "seconds": round(time.time() - start, 1),
                      **results}))
finally:
    gw.terminate()
    try:
        gw.wait(5)
    except subprocess.TimeoutExpired:
        gw.kill()
