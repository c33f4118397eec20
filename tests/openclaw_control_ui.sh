#!/usr/bin/env bash
# OpenClaw's own Control UI (dist/control-ui of the `openclaw` npm package) served by our gateway
# via gateway.controlUi.root, in headless Chromium (tests/control_ui/openclaw_ui.mjs): it loads,
# connects, and the methods it calls on load are recorded with our answers.
#
#   tests/openclaw_control_ui.sh        (CONTROL_UI_ROOT defaults to the package under /tmp/peers)
#
# Prints SKIP (exit 0) when the npm package, Chromium, node or playwright-core is missing; see
# ../shared/peers/README.md for installing the package. We ship none of its files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${OPENCLAW_SHARED_DIR:-$root/../shared}"
skip() { echo "SKIP: $1"; exit 0; }
ui="${CONTROL_UI_ROOT:-/tmp/peers/node_modules/openclaw/dist/control-ui}"
[ -f "$ui/index.html" ] || skip "no OpenClaw Control UI at $ui (npm install openclaw, see ../shared/peers/README.md)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || skip "no Chromium at $chromium"
command -v node >/dev/null 2>&1 || skip "no node"
pw="${PLAYWRIGHT_CORE:-$root/tests/control_ui/node_modules/playwright-core}"
[ -f "$pw/package.json" ] || pw="/tmp/peers/node_modules/playwright-core"
[ -f "$pw/package.json" ] || skip "no playwright-core (npm install --prefix tests/control_ui)"
[ -f "$shared/fake_llm.py" ] || skip "no $shared/fake_llm.py"
bin="${OPENCLAW_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build -q -p openclaw-cli)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/openclaw"
fi
OPENCLAW_BIN="$bin" FAKE_LLM="$shared/fake_llm.py" OUT_DIR="${OUT_DIR:-$root/target/control-ui-shots}" \
  CHROMIUM="$chromium" PLAYWRIGHT_CORE="$pw" CONTROL_UI_ROOT="$ui" timeout 120 node "$root/tests/control_ui/openclaw_ui.mjs"
