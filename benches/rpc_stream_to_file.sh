#!/usr/bin/env bash
# One `stream 20000` prompt in RPC mode with stdout going to a FILE (so no pipe reader can slow
# the agent down, and pi does not die with ENOBUFS), timed by /usr/bin/time: CPU (user, sys),
# wall time and peak RSS of the agent process.
#
#   benches/rpc_stream_to_file.sh "<agent command>" OUTFILE
#
# Needs a fake model on 127.0.0.1:18123 (python3 ../shared/fake_llm.py 18123) and a HOME made by
# python3 ../shared/conformance/rpc/make_home.py --port 18123 /tmp/s20k/home; mkdir -p /tmp/s20k/proj.
set -u
cmd="$1"; out="$2"
export HOME=/tmp/s20k/home PI_CODING_AGENT_DIR=/tmp/s20k/home/.pi/agent OPENCLAW_STATE_DIR=/tmp/s20k/home/.openclaw PI_OFFLINE=1 PI_SKIP_VERSION_CHECK=1 NO_COLOR=1
cd /tmp/s20k/proj || exit 2
mkfifo /tmp/s20k/in.$$ 
( echo '{"type":"prompt","message":"stream 20000"}'; while ! tail -c 400000 "$out" 2>/dev/null | grep -q '"type":"agent_end"'; do sleep 0.5; done ) > /tmp/s20k/in.$$ &
/usr/bin/time -f "%U user %S sys %e wall %M maxKB" $cmd --mode rpc --provider fake --model fake-model --no-session < /tmp/s20k/in.$$ > "$out"
rm -f /tmp/s20k/in.$$
