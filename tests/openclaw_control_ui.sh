#!/usr/bin/env bash
# OpenClaw's own Control UI (dist/control-ui of the `openclaw` npm package) served by our gateway
# via gateway.controlUi.root, in headless Chromium (tests/control_ui/openclaw_ui.mjs), for both
# OpenClaw releases we answer: 2026.5.6 (protocol v3) and 2026.9.6 (protocol v4). Each loads,
# connects, lists sessions, sends a chat and shows the streamed reply with no error banner; the
# methods it calls are recorded with our answers, and desktop and phone screenshots are kept.
#
#   tests/openclaw_control_ui.sh            both UIs that are installed
#
# Where the UIs are (env):
#   CONTROL_UI_ROOT_56  default: /tmp/peers56/node_modules/openclaw/dist/control-ui, else
#                       /tmp/peers/oc5/node_modules/openclaw/dist/control-ui. .ci/run unpacks it
#                       with `npm pack openclaw@2026.5.6` (only the UI folder is kept).
#   CONTROL_UI_ROOT     (9.6) default: /tmp/peers/node_modules/openclaw/dist/control-ui
#                       (see ../shared/peers/README.md); CI does not install it.
# A missing UI prints SKIP with the reason. Under CI=true a missing 2026.5.6 UI (which .ci/run
# installs), Chromium, node or playwright-core fails; a missing 2026.9.6 UI still only skips.
# We ship none of OpenClaw's files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${OPENCLAW_SHARED_DIR:-$root/../shared}"
skip() { echo "SKIP: $1"; if [ "${CI:-}" = "true" ]; then exit 1; fi; exit 0; }
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || skip "no Chromium at $chromium"
command -v node >/dev/null 2>&1 || skip "no node"
pw="${PLAYWRIGHT_CORE:-$root/tests/control_ui/node_modules/playwright-core}"
[ -f "$pw/package.json" ] || pw="/tmp/peers/node_modules/playwright-core"
[ -f "$pw/package.json" ] || skip "no playwright-core (npm install --prefix tests/control_ui)"
[ -f "$shared/fake_llm.py" ] || skip "no $shared/fake_llm.py"

ui56="${CONTROL_UI_ROOT_56:-}"
if [ -z "$ui56" ]; then
  ui56=/tmp/peers56/node_modules/openclaw/dist/control-ui
  [ -f "$ui56/index.html" ] || ui56=/tmp/peers/oc5/node_modules/openclaw/dist/control-ui
fi
ui96="${CONTROL_UI_ROOT:-/tmp/peers/node_modules/openclaw/dist/control-ui}"
todo=()
if [ -f "$ui56/index.html" ]; then todo+=("5.6=$ui56"); else
  echo "SKIP: no OpenClaw 2026.5.6 Control UI at $ui56 (npm install openclaw@2026.5.6, or see .ci/run)"
  [ "${CI:-}" = "true" ] && exit 1
fi
if [ -f "$ui96/index.html" ]; then todo+=("9.6=$ui96"); else
  echo "SKIP: no OpenClaw 2026.9.6 Control UI at $ui96 (npm install openclaw@2026.9.6, see ../shared/peers/README.md)"
fi
[ ${#todo[@]} -gt 0 ] || exit 0

bin="${OPENCLAW_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build -q -p openclaw-cli)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/openclaw"
fi
status=0
for item in "${todo[@]}"; do
  label="${item%%=*}"
  OPENCLAW_BIN="$bin" FAKE_LLM="$shared/fake_llm.py" OUT_DIR="${OUT_DIR:-$root/target/control-ui-shots}" \
    CHROMIUM="$chromium" PLAYWRIGHT_CORE="$pw" CONTROL_UI_ROOT="${item#*=}" UI_LABEL="$label" \
    timeout 180 node "$root/tests/control_ui/openclaw_ui.mjs" || status=1
done
exit $status
