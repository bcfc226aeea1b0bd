# Sourced by tests/run.sh: a throwaway PostgreSQL server for the state-backend tests.
#
# Installs PostgreSQL from Debian's packages when initdb/pg_ctl are missing, initdb's a cluster
# in a fresh directory made by mktemp under /tmp (not $TMPDIR, which may be private) -- as the `postgres` user
# when running as root, which owns that directory -- starts it on a free loopback port with its
# unix socket in that directory, creates the database `cmdeploy_test`, exports
# CMDEPLOY_TEST_PG_URL, and on exit stops the server and removes the directory. The cluster never
# lives inside the clone: a clone in a directory other users cannot enter (a 0700 home, a
# `mktemp -d` folder) would hide its files from the `postgres` user.
# Set CMDEPLOY_TEST_PG_URL yourself to use another server instead.
#
# The server also speaks TLS, with a certificate for 127.0.0.1 from a test CA made with openssl
# (tls/ca.pem in that directory): the role `cmdeploy_tls` may only connect over TLS (pg_hba
# `hostnossl ... reject`), and CMDEPLOY_TEST_PG_TLS_URL (sslmode=require) and CMDEPLOY_TEST_PG_CA
# are exported for the TLS test. With your own server, set those two as well.

pg_fail() { echo "tests/run.sh: $*" >&2; exit 1; }

# Fails showing a log of the throwaway directory (which is removed on exit).
pg_fail_log() {
  local log="$1"
  shift
  [ -f "$log" ] && sed 's/^/  | /' "$log" >&2
  pg_fail "$*"
}

pg_bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  # Debian keeps the server binaries off PATH.
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_install() {
  command -v apt-get >/dev/null 2>&1 ||
    pg_fail "PostgreSQL (initdb, pg_ctl) is missing and apt-get is not available: install PostgreSQL, or set CMDEPLOY_TEST_PG_URL"
  [ "$(id -u)" = 0 ] ||
    pg_fail "PostgreSQL (initdb, pg_ctl) is missing: run 'apt-get install -y postgresql' as root, or set CMDEPLOY_TEST_PG_URL"
  echo "tests/run.sh: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || pg_fail "apt-get update failed"
  apt-get install -y -qq postgresql >&2 || pg_fail "apt-get install postgresql failed"
}

# A test CA and a server certificate for 127.0.0.1 and localhost, made once.
pg_tls_files() {
  local dir="$PG_ROOT/tls"
  if ! command -v openssl >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] ||
      pg_fail "openssl is missing: install it (apt-get install -y openssl)"
    apt-get install -y -qq openssl >&2 || pg_fail "apt-get install openssl failed"
  fi
  mkdir -p "$dir"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cmdeploy test CA" \
      -keyout "$dir/ca.key" -out "$dir/ca.pem" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$dir/server.key.new" -out "$dir/server.csr" &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf" &&
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 3650 -extfile "$dir/ext.cnf" -out "$dir/server.pem"
  } >"$dir/openssl.log" 2>&1 || pg_fail_log "$dir/openssl.log" "making the test certificates failed"
  chmod 600 "$dir/server.key.new"
  [ "$(id -u)" = 0 ] && chown postgres "$dir/server.key.new" "$dir/server.pem"
  mv "$dir/server.key.new" "$dir/server.key"
}

pg_start() {
  if [ -n "${CMDEPLOY_TEST_PG_URL:-}" ]; then
    return
  fi
  local bindir
  bindir=$(pg_bindir)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    pg_install
    bindir=$(pg_bindir)
    [ -n "$bindir" ] && [ -x "$bindir/initdb" ] || pg_fail "PostgreSQL was installed but initdb is not found"
  fi
  PG_ROOT=$(mktemp -d /tmp/cmdeploy-pg.XXXXXXXX) || pg_fail "mktemp failed"
  PG_DATA=""
  trap pg_stop EXIT
  local data="$PG_ROOT/data" run="$PG_ROOT/run" password="cmdeploy-test-secret"
  PG_AS=()
  mkdir -p "$run"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    chown postgres "$PG_ROOT" "$run"
    # From /, which the postgres user can enter (the clone's directory may not be).
    PG_AS=(runuser -u postgres -- sh -c 'cd / && exec "$@"' sh)
  fi
  PG_CTL=("${PG_AS[@]}" "$bindir/pg_ctl")
  printf '%s\n' "$password" >"$PG_ROOT/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_ROOT/pwfile"
  "${PG_AS[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=scram-sha-256 \
    --pwfile="$PG_ROOT/pwfile" -E UTF8 --no-sync >"$PG_ROOT/initdb.log" 2>&1 ||
    pg_fail_log "$PG_ROOT/initdb.log" "initdb failed"
  rm -f "$PG_ROOT/pwfile"
  pg_tls_files
  # The TLS-only role may not connect without TLS (read when the server starts).
  "${PG_AS[@]}" sh -c "printf 'hostnossl all cmdeploy_tls 0.0.0.0/0 reject\n' | cat - '$data/pg_hba.conf' > '$data/pg_hba.conf.new' && mv '$data/pg_hba.conf.new' '$data/pg_hba.conf'" ||
    pg_fail "cannot restrict the TLS role in pg_hba.conf"
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${PG_CTL[@]}" -D "$data" -l "$PG_ROOT/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $run -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$PG_ROOT/tls/server.pem -c ssl_key_file=$PG_ROOT/tls/server.key" \
    start >/dev/null || pg_fail_log "$PG_ROOT/server.log" "PostgreSQL did not start"
  PG_DATA="$data"
  PGPASSWORD="$password" "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -q \
    -c "CREATE DATABASE cmdeploy_test" || pg_fail "cannot create the test database"
  PGPASSWORD="$password" "$bindir/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -q \
    -c "CREATE ROLE cmdeploy_tls LOGIN PASSWORD '$password'" \
    -c "CREATE DATABASE cmdeploy_tls_test OWNER cmdeploy_tls" || pg_fail "cannot create the TLS test role"
  export CMDEPLOY_TEST_PG_URL="postgres://postgres:$password@127.0.0.1:$PG_PORT/cmdeploy_test"
  export CMDEPLOY_TEST_PG_TLS_URL="postgres://cmdeploy_tls:$password@127.0.0.1:$PG_PORT/cmdeploy_tls_test?sslmode=require"
  export CMDEPLOY_TEST_PG_CA="$PG_ROOT/tls/ca.pem"
  echo "tests/run.sh: PostgreSQL on 127.0.0.1:$PG_PORT (data in $data)" >&2
}

# Stops the server (when it started) and removes its directory.
pg_stop() {
  if [ -n "${PG_DATA:-}" ]; then
    "${PG_CTL[@]}" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_ROOT:-}" ] && rm -rf "$PG_ROOT"
}
