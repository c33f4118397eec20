#!/usr/bin/env bash
# Runs ../shared/conformance/gateway/run.py against our gateway (`openclaw gateway run`).
#
#   tests/gateway_conformance.sh [run.py options...]     e.g. --quick, --only health
#
# Env: OPENCLAW_SHARED_DIR (default ../shared beside the repo), CONFORMANCE_DIR (default $OPENCLAW_SHARED_DIR/conformance/gateway), PYTHON (needs websockets>=13
# and jsonschema>=4.18), GW_PORT (default: a free port), OPENCLAW_BIN (default: builds
# target/debug/openclaw). Exit status is run.py's; 0 with a SKIP line when prerequisites are missing (1 under CI=true).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${OPENCLAW_SHARED_DIR:-$root/../shared}"
conf="${CONFORMANCE_DIR:-$shared/conformance/gateway}"
py="${PYTHON:-python3}"
# Under CI a missing prerequisite is a failure, never a silent skip.
skip() { echo "SKIP: $1"; if [ "${CI:-}" = "true" ]; then exit 1; fi; exit 0; }
if [ ! -f "$conf/run.py" ]; then skip "no conformance suite at $conf"; fi
if ! "$py" -c 'import websockets, jsonschema' 2>/dev/null; then
  skip "$py lacks websockets/jsonschema (pip install -r $conf/requirements.txt)"
fi
bin="${OPENCLAW_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build -q -p openclaw-cli)
  bin="$root/target/debug/openclaw"
fi
port="${GW_PORT:-$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
token="conformance-token-$RANDOM$RANDOM"
work="$(mktemp -d)"
gw_pid=""
fake_pid=""
cleanup() {
  if [ -n "$gw_pid" ]; then kill "$gw_pid" 2>/dev/null || true; wait "$gw_pid" 2>/dev/null || true; fi
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
fake="${FAKE_LLM:-$shared/fake_llm.py}"
fake_port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 "$fake" "$fake_port" > "$work/fake_llm.log" 2>&1 &
fake_pid=$!
cat > "$work/openclaw.json" <<JSON
{
  gateway: { mode: "local", port: $port, bind: "loopback", auth: { mode: "token", token: "$token" },
    http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } } },
  agents: { defaults: { model: { primary: "fake/fake-model" } }, list: [{ id: "main", default: true }] },
  models: { providers: { fake: { baseUrl: "http://127.0.0.1:$fake_port/v1", apiKey: "fake", api: "openai-completions",
    models: [{ id: "fake-model", name: "Fake Model", reasoning: false, contextWindow: 128000 }] } } },
  session: { notifyOnCreate: false },
}
JSON
OPENCLAW_STATE_DIR="$work" "$bin" gateway run > "$work/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 200); do
  if "$py" -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.1)" 2>/dev/null; then break; fi
  sleep 0.05
done
set +e
(cd "$conf" && "$py" run.py --url "ws://127.0.0.1:$port" --token "$token" "$@")
rc=$?
exit $rc
