#!/usr/bin/env bash
# Regenerates openclaw-cli/startup.order: the functions the gateway runs from `gateway run` to
# its first clients' `health` and `status` and through a few idle seconds, as callgrind sees them
# in a release build. The linker places them together (openclaw-cli/build.rs), so start-up
# touches a few MiB of code pages instead of half the executable's 64 KiB windows.
#
# Run it after a toolchain upgrade or a large change of the start-up path (the names carry the
# crates' hashes; names the linker no longer finds are ignored, so a stale file only loses the
# gain). Needs valgrind and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "startup_order.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "startup_order.sh: needs python3" >&2; exit 2; }

# Symbols kept so callgrind can name the functions; only the executable's own crate differs
# from a normal release build by that setting.
cargo build --release -p openclaw-cli --config 'profile.release.package.openclaw-cli.strip=false'
bin=$PWD/target/release/openclaw
tmp=$(mktemp -d)
trap 'kill -INT "$vg" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export HOME=$tmp OPENCLAW_STATE_DIR=$tmp/state
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

valgrind --tool=callgrind --demangle=no --callgrind-out-file="$tmp/cg.out" \
  "$bin" gateway run --port "$port" >"$tmp/gateway.log" 2>&1 &
vg=$!
up=
for _ in $(seq 240); do
  if "$bin" gateway call health --url "ws://127.0.0.1:$port" >/dev/null 2>&1; then up=1; break; fi
  sleep 0.5
done
[ -n "$up" ] || { echo "startup_order.sh: the gateway did not answer under valgrind" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
"$bin" gateway call status --url "ws://127.0.0.1:$port" >/dev/null
# Idle for a while: what the gateway's timers run while nobody asks anything (the skills
# watcher's rescans of its roots, the channels' and cron's sweeps) stays resident too.
sleep 12
"$bin" gateway call health --url "ws://127.0.0.1:$port" >/dev/null
kill -INT "$vg"
wait "$vg" || true

python3 - "$tmp/cg.out" "$(basename "$bin")" >openclaw-cli/startup.order <<'PY'
import re, sys
path, exe = sys.argv[1], sys.argv[2]
objs, fns, order, seen, obj = {}, {}, [], set(), None
for line in open(path, errors="replace"):
    m = re.match(r"^(c?)(ob|fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
    if not m:
        continue
    callee, kind, ident, name = m.groups()
    table = objs if kind == "ob" else fns
    if name is not None:
        table[ident] = name
    if callee:
        continue
    if kind == "ob":
        obj = objs.get(ident, "")
    elif obj.endswith("/" + exe):
        name = fns.get(ident)
        if name and name not in seen:
            seen.add(name)
            order.append(name)
print("\n".join(order))
PY
echo "startup_order.sh: $(wc -l <openclaw-cli/startup.order) functions in openclaw-cli/startup.order" >&2
