# procs.sh - sourced by the shell tests and demos: signal a process only
# while it is still the one they started.  A PID whose process has died
# and been reaped may already belong to another program (pid_max is often
# 32768 and test suites start thousands of processes, several tests at
# once), so a cleanup that kills every PID it ever recorded could kill
# some other test's process.
#
#   kill_ours SIGNAL PID [PARENT...]
#
# sends SIGNAL to PID only if it is alive and its parent is this shell
# ($$) or one of the PARENTs given (e.g. a daemon whose replicas these
# are).  Always returns 0.
kill_ours() {
  local sig=$1 pid=$2 stat ppid p
  shift 2
  [ -n "$pid" ] || return 0
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  ppid=${stat#* }
  ppid=${ppid%% *}
  for p in $$ "$@"; do
    if [ "$ppid" = "$p" ]; then
      kill "$sig" "$pid" 2>/dev/null || true
      return 0
    fi
  done
  return 0
}
