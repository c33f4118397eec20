#!/usr/bin/env bash
# The built-in Control UI in headless Chromium against `openclaw gateway run` and the fake model
# (tests/control_ui/browser.mjs: login by #token=, wrong token, foreign origin, streamed chat,
# tool cell, exec approval card, session switch, gateway restart, desktop and phone screenshots).
#
#   tests/control_ui_browser.sh            screenshots and metrics.json in target/control-ui-shots/
#
# Env: CHROMIUM (default /usr/bin/chromium), PLAYWRIGHT_CORE (the playwright-core package dir;
# default tests/control_ui/node_modules/playwright-core, installed by `npm install --prefix
# tests/control_ui`), OPENCLAW_SHARED_DIR, OPENCLAW_BIN, OUT_DIR. A missing prerequisite prints
# SKIP and exits 0, or fails under CI=true.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${OPENCLAW_SHARED_DIR:-$root/../shared}"
skip() { echo "SKIP: $1"; if [ "${CI:-}" = "true" ]; then exit 1; fi; exit 0; }
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || skip "no Chromium at $chromium (apt-get install chromium)"
command -v node >/dev/null 2>&1 || skip "no node (apt-get install nodejs)"
pw="${PLAYWRIGHT_CORE:-$root/tests/control_ui/node_modules/playwright-core}"
[ -f "$pw/package.json" ] || skip "no playwright-core at $pw (npm install --prefix tests/control_ui)"
[ -f "$shared/fake_llm.py" ] || skip "no $shared/fake_llm.py"
bin="${OPENCLAW_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build -q -p openclaw-cli)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/openclaw"
fi
out="${OUT_DIR:-$root/target/control-ui-shots}"
OPENCLAW_BIN="$bin" FAKE_LLM="$shared/fake_llm.py" OUT_DIR="$out" CHROMIUM="$chromium" \
  PLAYWRIGHT_CORE="$pw" timeout 300 node "$root/tests/control_ui/browser.mjs"
