#!/bin/sh
# PID 1 of a function container. The watchdog runs as a child so that this
# shell reaps every orphan: when exec_timeout kills a process group, its
# grandchildren are re-parented to PID 1, and Node (which only waits for its
# own children) would leave them as zombies. busybox and dash both reap any
# child while they `wait`. SIGTERM/SIGINT go on to the watchdog, which drains
# in-flight requests and exits 0.
# Small on small nodes: a 1 MiB young generation (V8's default of up to 16 MiB
# a semi-space kept ~30 MiB more resident under load, for no measurable gain
# here), and one malloc arena on glibc bases (their per-thread arenas kept
# another ~40 MiB in HTTP mode); musl (Alpine) has no arenas. Processes the
# watchdog starts inherit MALLOC_ARENA_MAX (unless the image sets its own).
MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-1} node --max-semi-space-size=1 /home/app/watchdog.mjs &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
while :; do
  wait "$child"
  status=$?
  # wait also returns when a trapped signal arrives: keep waiting until the watchdog is gone.
  kill -0 "$child" 2>/dev/null || exit "$status"
done
