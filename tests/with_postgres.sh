#!/bin/sh
# with_postgres.sh CMD...: runs CMD with JB_TEST_DB_URL pointing at a
# throw-away PostgreSQL cluster (Debian's server binaries), made in a temp
# folder, listening on a unix socket only, stopped and removed afterwards.
# Exits 77 (ctest SKIP_RETURN_CODE) when the server binaries are absent.
set -u
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "SKIPPED: PostgreSQL server binaries not installed (apt-get install postgresql); PostgreSQL store tests not run"
    exit 77
fi
tmp=$(mktemp -d /tmp/jb-pg.XXXXXX)
chmod 755 "$tmp"
# initdb refuses to run as root: run the server as the postgres account
# that Debian's package creates, or as ourselves when not root.
as=""
if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "SKIPPED: running as root and no 'postgres' account to run the server as"
        rm -rf "$tmp"
        exit 77
    fi
    chown postgres "$tmp"
    as="runuser -u postgres --"
fi
port=$(( 20000 + $$ % 20000 ))
cleanup() {
    $as "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
$as "$bindir/initdb" -D "$tmp/data" -A trust -U jb -E UTF8 >"$tmp/initdb.log" 2>&1 || {
    cat "$tmp/initdb.log"; echo "with_postgres: initdb failed"; exit 1; }
$as "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 \
    -o "-k $tmp -p $port -c listen_addresses= -c fsync=off" start >/dev/null || {
    cat "$tmp/server.log"; echo "with_postgres: server did not start"; exit 1; }
JB_TEST_DB_URL="postgresql://jb@/postgres?host=$tmp&port=$port"
export JB_TEST_DB_URL
echo "with_postgres: throw-away server on $tmp port $port"
"$@"
