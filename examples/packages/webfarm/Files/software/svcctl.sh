#!/bin/sh
# Copyright (c) vnfm-toolkit developers
# Apache License 2.0 (see Licenses/LICENSE.txt)
#
# svcctl.sh - manage one webfarm daemon from inside a VNFC's network namespace
#
#   svcctl.sh status PIDFILE MARK         -> prints running | stale | absent
#   svcctl.sh start  PIDFILE LOGFILE CMD [ARG...]   -> prints started
#   svcctl.sh stop   PIDFILE MARK [TIMEOUT_S]       -> prints stopped | absent
#   svcctl.sh reload PIDFILE MARK         -> SIGHUP; prints reloaded | absent
#   svcctl.sh rotate LOGFILE              -> copy-truncate; prints rotated | absent
#   svcctl.sh backends FILE PIDFILE MARK [HOST:PORT...]
#       -> write the load balancer's backend list (its directory made); when it
#          changed and the lb runs, SIGHUP it; prints changed | unchanged
#   svcctl.sh ensure SRC RUNDIR NAME RESTART PYTHON [ARG...]
#       -> install SRC as RUNDIR/NAME.py and make sure it runs here with it;
#          prints running (nothing to do) | started | restarted
#   svcctl.sh up BACKENDS SRC RUNDIR NAME RESTART PYTHON [ARG...]
#       -> what a VNFC needs after a lifecycle step, in one call: BACKENDS is
#          "-" (a web server) or "backends=HOST:PORT,..." (the load balancer:
#          RUNDIR/backends written first, a running lb reloaded when it
#          changed), then ensure; prints running | reloaded | started | restarted
#
# MARK is a string of the daemon's command line (the path of its script), so
# that a recycled pid is never taken for the daemon. "stale" means the daemon
# lives in another network namespace (the VNFC was healed/recreated).
# CMD must write PIDFILE itself once it is ready (web.py/lb.py --pidfile).
set -eu

alive() {  # alive PID MARK: is PID a live (non-zombie) process running MARK?
    grep -qaF -- "$2" "/proc/$1/cmdline" 2>/dev/null
}

pid_of() {  # pid_of PIDFILE MARK: print the daemon's pid, fail if none runs
    [ -s "$1" ] || return 1
    p=$(cat "$1")
    case "$p" in '' | *[!0-9]*) return 1 ;; esac
    alive "$p" "$2" || return 1
    echo "$p"
}

[ $# -ge 2 ] || { echo "usage: $0 status|start|stop|reload|rotate|ensure|backends ARGS..." >&2; exit 2; }
action=$1
shift
case "$action" in
status)
    if pid=$(pid_of "$1" "$2"); then
        if [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ]; then
            echo running
        else
            echo stale
        fi
    else
        echo absent
    fi
    ;;
start)
    pidfile=$1
    logfile=$2
    shift 2
    rm -f "$pidfile"
    # a new session, no terminal, output appended to the log: fully detached
    setsid "$@" >>"$logfile" 2>&1 </dev/null &
    n=0
    # polled every 20 ms (a daemon is up in about 0.1 s), for 15 s at most
    while [ ! -s "$pidfile" ] && [ "$n" -lt 750 ]; do
        sleep 0.02
        n=$((n + 1))
    done
    if [ ! -s "$pidfile" ]; then
        echo "daemon did not start; last lines of $logfile:" >&2
        tail -n 20 "$logfile" >&2
        exit 1
    fi
    echo started
    ;;
stop)
    timeout=${3:-10}
    if pid=$(pid_of "$1" "$2"); then
        kill -TERM "$pid" 2>/dev/null || true
        n=0
        while alive "$pid" "$2" && [ "$n" -lt $((timeout * 50)) ]; do
            sleep 0.02
            n=$((n + 1))
        done
        if alive "$pid" "$2"; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
        rm -f "$1"
        echo stopped
    else
        rm -f "$1"
        echo absent
    fi
    ;;
reload)
    if pid=$(pid_of "$1" "$2"); then
        kill -HUP "$pid"
        echo reloaded
    else
        echo absent
    fi
    ;;
ensure)
    # One call does what a configuration tool would do in several steps:
    # install the software, stop a stale or outdated daemon, start it.
    src=$1 rundir=$2 name=$3 restart=$4 python=$5
    shift 5
    pidfile="$rundir/$name.pid" script="$rundir/$name.py"
    mkdir -p "$rundir"
    changed=0
    if ! cmp -s "$src" "$script"; then
        cp "$src" "$script.new" && chmod 0755 "$script.new" && mv "$script.new" "$script"
        changed=1
    fi
    state=$(sh "$0" status "$pidfile" "$script")
    if [ "$state" = running ] && [ "$changed" = 0 ] && [ "$restart" != 1 ]; then
        echo running
        exit 0
    fi
    was=$state
    if [ "$state" != absent ]; then
        sh "$0" stop "$pidfile" "$script" >/dev/null
    fi
    sh "$0" start "$pidfile" "$rundir/$name.log" "$python" "$script" --pidfile "$pidfile" "$@" >/dev/null
    if [ "$was" = absent ]; then echo started; else echo restarted; fi
    ;;
up)
    # One task per VNFC and lifecycle step: the load balancer's backends and its
    # daemon together, so that every VNFC's task runs at the same time.
    spec=$1
    shift
    reloaded=unchanged
    case "$spec" in
    -) ;;
    backends=*)
        rundir=$2 name=$3
        old_ifs=$IFS
        IFS=,
        set -f # split on the commas only, no globbing ([::1]:80)
        # shellcheck disable=SC2086 # the HOST:PORT list split on its commas
        reloaded=$(sh "$0" backends "$rundir/backends" "$rundir/$name.pid" "$rundir/$name.py" ${spec#backends=})
        set +f
        IFS=$old_ifs
        ;;
    *)
        echo "up: BACKENDS must be - or backends=HOST:PORT,... (got $spec)" >&2
        exit 2
        ;;
    esac
    state=$(sh "$0" ensure "$@")
    if [ "$state" = running ] && [ "$reloaded" = changed ]; then state=reloaded; fi
    echo "$state"
    ;;
backends)
    # One call instead of directory + template + reload handler.
    file=$1 pidfile=$2 mark=$3
    shift 3
    mkdir -p "$(dirname "$file")"
    {
        echo "# web VNFCs behind the load balancer ($#), written by the VNFM hooks"
        for entry; do echo "$entry"; done
    } >"$file.new"
    if cmp -s "$file.new" "$file"; then
        rm -f "$file.new"
        echo unchanged
        exit 0
    fi
    chmod 0644 "$file.new" && mv "$file.new" "$file"
    sh "$0" reload "$pidfile" "$mark" >/dev/null
    echo changed
    ;;
rotate)
    if [ -s "$1" ]; then
        cp -p "$1" "$1.1"
        : >"$1"
        echo rotated
    else
        echo absent
    fi
    ;;
*)
    echo "unknown action $action" >&2
    exit 2
    ;;
esac
