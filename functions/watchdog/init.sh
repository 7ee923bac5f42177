#!/bin/sh
# PID 1 of a function container. The watchdog runs as a child so that this
# shell reaps every orphan: when exec_timeout kills a process group, its
# grandchildren are re-parented to PID 1, and Node (which only waits for its
# own children) would leave them as zombies. busybox and dash both reap any
# child while they `wait`. SIGTERM/SIGINT go on to the watchdog, which drains
# in-flight requests and exits 0.
node /home/app/watchdog.mjs &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
while :; do
  wait "$child"
  status=$?
  # wait also returns when a trapped signal arrives: keep waiting until the watchdog is gone.
  kill -0 "$child" 2>/dev/null || exit "$status"
done
