#!/usr/bin/env bash
# Serve a room: N Streamlit workers kept running by supervisord, behind HAProxy, the leaderboard on
# PostgreSQL (all three from Debian, installed here if missing and running as root, the way
# scripts/test.sh installs chromium).
#
#   bash scripts/serve.sh [--workers 2] [--port 8501] [--address 0.0.0.0] [--backend HOST:PORT]...
#   bash scripts/serve.sh stop          # stops everything it started
#
# Worker i listens on 127.0.0.(i+1):--worker-port (8601); HAProxy (deploy/haproxy.cfg.template,
# rendered into run/haproxy.cfg) listens on --address:--port, keeps each browser on one worker with
# a cookie and sends new sessions only to workers that pass their health check. supervisord (its
# config generated into run/supervisord.conf, one program per worker) starts a worker again as soon as
# it dies (kill -9, out of memory): it serves again within seconds. A worker that keeps crashing
# within 20 s of its start is retried with a growing pause (1 s, 2 s, ... 5 tries), then given up on
# (FATAL); all of it is logged in run/logs/supervisord.log (`supervisorctl -c run/supervisord.conf
# status` lists the workers). --backend adds a worker started on another machine (see
# docs/serving.md, "Serving a big room"). PostgreSQL keeps its
# data in run/pg and listens on --pg-address (127.0.0.1):--pg-port (5433). Everything it starts
# leaves its pid and log under run/ (git-ignored; ATELIER_RUN_DIR moves it). scripts/app.sh stays the
# one-process way, with the leaderboard in a SQLite file.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN=${ATELIER_RUN_DIR:-$ROOT/run}
WORKERS=2 PORT=8501 ADDRESS=0.0.0.0 WORKER_PORT=8601 PG_PORT=5433 PG_ADDRESS=127.0.0.1 BACKENDS=()

say() { echo "serve.sh: $*" >&2; }
die() { say "$*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
as_postgres() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }  # postgres refuses root
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

supervisor() { supervisorctl -c "$RUN/supervisord.conf" "$@"; }

stop_all() {
  local pid_file pid pids=() waited
  # supervisord first, so that nothing starts a worker again; it stops each worker's process group
  if [ -f "$RUN/supervisord.pid" ] && kill -0 "$(cat "$RUN/supervisord.pid")" 2>/dev/null; then
    pid=$(cat "$RUN/supervisord.pid")
    supervisor shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for waited in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/supervisord.pid"
  for pid_file in "$RUN"/worker-*.pid "$RUN"/haproxy.pid; do
    [ -f "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    # a worker is the leader of its process group (supervisord makes it so): end the group, children included
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    rm -f "$pid_file"
  done
  for pid in "${pids[@]}"; do  # gone within 15 s, or killed: the ports are free when this returns
    for waited in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -f "$RUN/pg/data/postmaster.pid" ] && [ -n "$(pg_bin)" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$RUN/pg/data" -m fast -w stop >/dev/null || true
  fi
}

if [ "${1:-}" = stop ]; then
  stop_all
  say "stopped"
  exit 0
fi

while [ $# -gt 0 ]; do
  case "$1" in
    --workers) WORKERS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --address) ADDRESS=$2; shift 2 ;;
    --worker-port) WORKER_PORT=$2; shift 2 ;;
    --pg-port) PG_PORT=$2; shift 2 ;;
    --pg-address) PG_ADDRESS=$2; shift 2 ;;  # 0.0.0.0 for workers on other hosts (then allow them in pg_hba.conf)
    --backend) BACKENDS+=("$2"); shift 2 ;;
    *) die "unknown option $1 (see the top of scripts/serve.sh)" ;;
  esac
done
[[ "$WORKERS" =~ ^[0-9]+$ ]] && [ "$WORKERS" -ge 0 ] && [ "$WORKERS" -le 250 ] || die "--workers takes 0 to 250"
[ "$WORKERS" -gt 0 ] || [ ${#BACKENDS[@]} -gt 0 ] || die "no workers: give --workers N or --backend HOST:PORT"

# ---------------------------------------------------------------- install what is missing
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
[ -n "$(pg_bin)" ] || missing+=(postgresql)
command -v supervisord >/dev/null 2>&1 || missing+=(supervisor)
if [ ${#missing[@]} -gt 0 ]; then
  is_root && command -v apt-get >/dev/null 2>&1 || die "install ${missing[*]} (Debian: apt-get install ${missing[*]})"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
fi
PG_BIN=$(pg_bin)

# ---------------------------------------------------------------- refuse what would collide
for pid_file in "$RUN/haproxy.pid" "$RUN/supervisord.pid"; do
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    die "already running ($pid_file): bash scripts/serve.sh stop first"
  fi
done
port_free() {  # address port: exit status 0 if a server could listen there
  .venv/bin/python - "$1" "$2" <<'EOF'
import socket, sys
address, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in address else socket.AF_INET
with socket.socket(family) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: a closed port in TIME_WAIT is free
    try:
        s.bind((address, port))
    except OSError:
        sys.exit(1)
EOF
}
port_free "$ADDRESS" "$PORT" || die "port $PORT on $ADDRESS is already in use (another app, or serve.sh still running: bash scripts/serve.sh stop); choose another with --port"
for i in $(seq 1 "$WORKERS"); do
  port_free "127.0.0.$((i + 1))" "$WORKER_PORT" || die "port $WORKER_PORT on 127.0.0.$((i + 1)) (worker $i) is already in use; choose another with --worker-port"
done
port_free 127.0.0.1 "$PG_PORT" || die "port $PG_PORT on 127.0.0.1 (PostgreSQL) is already in use; choose another with --pg-port"

mkdir -p "$RUN/logs"
trap 'say "failed: stopping what was started (logs in $RUN/logs)"; stop_all' ERR

# ---------------------------------------------------------------- PostgreSQL, data in run/pg
mkdir -p "$RUN/pg"
if is_root; then
  chown postgres: "$RUN/pg"
  runuser -u postgres -- test -w "$RUN/pg" || die "user postgres cannot write $RUN/pg: set ATELIER_RUN_DIR to a folder it can reach"
fi
if [ ! -f "$RUN/pg/data/PG_VERSION" ]; then
  as_postgres "$PG_BIN/initdb" -D "$RUN/pg/data" -U atelier --auth=trust -E UTF8 >"$RUN/logs/initdb.log" 2>&1
fi
# TCP on loopback by default (initdb's pg_hba.conf trusts this machine only; other hosts need a line
# there and a password), no unix socket (its path length is limited)
as_postgres "$PG_BIN/pg_ctl" -D "$RUN/pg/data" -l "$RUN/pg/postgres.log" -w -t 60 \
  -o "-c listen_addresses=$PG_ADDRESS -p $PG_PORT -c unix_socket_directories='' -c max_connections=300" start >/dev/null
exists=$(as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U atelier -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'atelier'")
[ "$exists" = 1 ] || as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U atelier atelier
export ATELIER_DATABASE_URL="postgresql+psycopg://atelier@127.0.0.1:$PG_PORT/atelier?connect_timeout=3"
echo "$ATELIER_DATABASE_URL" >"$RUN/database_url"  # for bench/load.py and the tests

# ---------------------------------------------------------------- the workers
# One cookie secret for all workers: a browser moved to another worker keeps a valid XSRF cookie (uploads).
[ -f "$RUN/cookie_secret" ] || (umask 077 && .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" >"$RUN/cookie_secret")
export STREAMLIT_SERVER_COOKIE_SECRET
STREAMLIT_SERVER_COOKIE_SECRET=$(cat "$RUN/cookie_secret")
if [ -z "${ATELIER_PUBLIC_URL:-}" ] && .venv/bin/python -c "import sys; from app.serving.network import is_loopback; sys.exit(is_loopback('$ADDRESS'))"; then
  # the workers listen on loopback; the room reaches them through the proxy's port on the LAN address
  export ATELIER_PUBLIC_URL
  ATELIER_PUBLIC_URL=$(.venv/bin/python -m app.serving.network --port "$PORT" --path "")
fi
servers=""
for i in $(seq 1 "$WORKERS"); do
  servers+="    server w$i 127.0.0.$((i + 1)):$WORKER_PORT check cookie w$i"$'\n'
done
for number in "${!BACKENDS[@]}"; do
  servers+="    server remote$((number + 1)) ${BACKENDS[$number]} check cookie remote$((number + 1))"$'\n'
done
if [ "$WORKERS" -gt 0 ]; then
  # supervisord's control socket: a unix socket's path is limited to about 100 bytes
  socket="$RUN/supervisor.sock"
  [ ${#socket} -lt 100 ] || socket="/tmp/atelier-supervisor-$(printf %s "$RUN" | md5sum | cut -c1-12).sock"
  {
    echo "; generated by scripts/serve.sh: its workers, kept running (do not edit: rewritten at each start)"
    echo "[supervisord]"
    echo "user=$(id -un)"  # whoever ran serve.sh (as root, supervisord logs a warning without it)
    echo "logfile=$RUN/logs/supervisord.log"
    echo "pidfile=$RUN/supervisord.pid"
    echo "childlogdir=$RUN/logs"
    echo "directory=$ROOT"
    echo "[unix_http_server]"
    echo "file=$socket"
    echo "chmod=0700"
    echo "[supervisorctl]"
    echo "serverurl=unix://$socket"
    echo "[rpcinterface:supervisor]"
    echo "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface"
    for i in $(seq 1 "$WORKERS"); do
      # bash writes the worker's pid (exec keeps it) for `serve.sh stop`, bench/load.py and the tests
      echo "[program:w$i]"
      echo "command=bash -c 'echo \$\$ >\"$RUN/worker-$i.pid\" && exec .venv/bin/python -m app.serving.launch run asgi.py --server.headless true --server.address 127.0.0.$((i + 1)) --server.port $WORKER_PORT --server.fileWatcherType none --browser.gatherUsageStats false'"
      echo "directory=$ROOT"
      echo "environment=ATELIER_WORKER_NAME=\"w$i\""
      echo "autostart=true"
      echo "autorestart=true"     # whatever the exit: a worker only ever stops when serve.sh stops it
      echo "startsecs=20"         # up for 20 s = started; one that dies sooner (its imports alone take 3-10 s)
      echo "startretries=5"       # is crash-looping: tried again after 1, 2, 3, 4, 5 s, then FATAL (logged)
      echo "stopsignal=TERM"
      echo "stopwaitsecs=15"
      echo "stopasgroup=true"
      echo "killasgroup=true"
      echo "redirect_stderr=true"
      echo "stdout_logfile=$RUN/logs/worker-$i.log"
      echo "stdout_logfile_maxbytes=20MB"
      echo "stdout_logfile_backups=2"
    done
  } >"$RUN/supervisord.conf"
  rm -f "$RUN"/worker-*.pid
  # the workers inherit this environment: database URL, cookie secret, public address
  supervisord -c "$RUN/supervisord.conf"
fi
for i in $(seq 1 "$WORKERS"); do
  .venv/bin/python - "127.0.0.$((i + 1)):$WORKER_PORT" "w$i" "$RUN/supervisord.conf" "$RUN/logs/worker-$i.log" <<'EOF'
import subprocess, sys, time, urllib.request
address, name, conf, log = sys.argv[1:]
deadline = time.monotonic() + 180
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://{address}/_stcore/health", timeout=2) as response:
            if response.read().strip() == b"ok":
                sys.exit(0)
    except OSError:
        time.sleep(0.5)
    state = subprocess.run(["supervisorctl", "-c", conf, "status", name], capture_output=True, text=True).stdout
    if "FATAL" in state:
        sys.exit(f"worker {name} ({address}) keeps exiting ({state.strip()}):\n" + open(log).read()[-3000:])
sys.exit(f"worker {name} ({address}) not healthy after 180 s:\n" + open(log).read()[-3000:])
EOF
done

# ---------------------------------------------------------------- HAProxy in front
bind="$ADDRESS:$PORT"
[[ "$ADDRESS" == *:* ]] && bind="[$ADDRESS]:$PORT"  # IPv6
template=$(cat deploy/haproxy.cfg.template)
template=${template//@BIND@/$bind}
printf '%s\n' "${template//@SERVERS@/${servers%$'\n'}}" >"$RUN/haproxy.cfg"
haproxy -c -f "$RUN/haproxy.cfg" >"$RUN/logs/haproxy-check.log" 2>&1 || { cat "$RUN/logs/haproxy-check.log" >&2; false; }
haproxy -D -f "$RUN/haproxy.cfg" -p "$RUN/haproxy.pid"
trap - ERR

say "$WORKERS worker(s) (kept running by supervisord) + ${#BACKENDS[@]} other host(s) behind HAProxy on $bind, leaderboard on PostgreSQL $PG_ADDRESS:$PG_PORT"
say "the room opens ${ATELIER_PUBLIC_URL:-http://$bind/} ; stop everything: bash scripts/serve.sh stop"
