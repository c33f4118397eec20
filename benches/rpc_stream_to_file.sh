#!/usr/bin/env bash
# One `stream 20000` prompt in RPC mode with stdout going to a FILE (so no pipe reader can slow
# the agent down, and pi does not die with ENOBUFS), timed by /usr/bin/time: CPU (user, sys),
# wall time and peak RSS of the agent process.
#
#   benches/rpc_stream_to_file.sh "<agent command>" OUTFILE [file|null]
#
# Sink `file` (the default): stdout goes to OUTFILE; the run is over when `agent_end` shows up
# there. Put OUTFILE on /dev/shm to leave the disk out (the kernel still copies every byte).
# Sink `null`: stdout goes to /dev/null, which costs the kernel next to nothing; OUTFILE must then
# be the output of an earlier `file` run of the same agent, whose size says when this run is
# over (the agent's write counter in /proc/PID/io reaches it and stops moving).
#
# Needs a fake model on 127.0.0.1:18123 (python3 ../shared/fake_llm.py 18123) and a HOME made by
# python3 ../shared/conformance/rpc/make_home.py --port 18123 /tmp/s20k/home; mkdir -p /tmp/s20k/proj.
set -u
cmd="$1"; out="$2"; sink="${3:-file}"
export HOME=/tmp/s20k/home PI_CODING_AGENT_DIR=/tmp/s20k/home/.pi/agent OPENCLAW_STATE_DIR=/tmp/s20k/home/.openclaw PI_OFFLINE=1 PI_SKIP_VERSION_CHECK=1 NO_COLOR=1
cd /tmp/s20k/proj || exit 2
case "$sink" in
  file) target="$out" ;;
  null) target=/dev/null; want=$(stat -c %s "$out") || exit 2 ;;
  *) echo "sink must be file or null" >&2; exit 2 ;;
esac
fifo=/tmp/s20k/in.$$
mkfifo "$fifo"
/usr/bin/time -f "%U user %S sys %e wall %M maxKB" $cmd --mode rpc --provider fake --model fake-model --no-session < "$fifo" > "$target" &
timer=$!
exec 3> "$fifo"
echo '{"type":"prompt","message":"stream 20000"}' >&3
if [ "$sink" = file ]; then
  while ! tail -c 400000 "$out" 2>/dev/null | grep -q '"type":"agent_end"'; do sleep 0.5; done
else
  agent=""
  while [ -z "$agent" ]; do agent=$(pgrep -P "$timer" | head -1); sleep 0.1; done
  last=-1
  while :; do
    now=$(awk '/^wchar/ {print $2}' "/proc/$agent/io" 2>/dev/null) || break
    [ -z "$now" ] && break
    if [ "$now" -ge "$want" ] && [ "$now" = "$last" ]; then break; fi
    last=$now
    sleep 0.5
  done
fi
exec 3>&-
wait "$timer"
rm -f "$fifo"
