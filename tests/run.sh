#!/usr/bin/env bash
# The test suite, for a new user and for CI. It creates target/peer-venv, a Python virtual
# environment with pywinrm (the independent WinRM client that proves `cmdeploy lab serve` speaks
# the protocol Windows speaks), and a throwaway PostgreSQL server for the state-backend tests
# (tests/support/pg.sh: installed from Debian's packages when missing, in a mktemp directory under
# /tmp that its user can reach wherever the clone sits, stopped and removed on exit), and a
# throwaway MIT Kerberos KDC for the Kerberos tests (tests/support/kdc.sh: realm CONTOSO.COM on
# loopback, installed from Debian's packages when missing, stopped and removed on exit), then
# runs every test of the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/peer-venv
if ! "$venv/bin/python" -c "import winrm" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check pywinrm
fi
export CMDEPLOY_PEER_PYTHON="$PWD/$venv/bin/python"
source tests/support/pg.sh
source tests/support/kdc.sh
pg_start
kdc_start
cargo test "$@"
