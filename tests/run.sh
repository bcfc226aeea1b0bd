#!/usr/bin/env bash
# The test suite, for a new user and for CI. It creates target/peer-venv, a Python virtual
# environment with pywinrm (the independent WinRM client that proves `cmdeploy lab serve` speaks
# the protocol Windows speaks) and check-jsonschema (the CI pipelines against GitHub's and Azure's
# schemas), and a throwaway PostgreSQL server for the state-backend tests
# (tests/support/pg.sh: installed from Debian's packages when missing, in a mktemp directory under
# /tmp that its user can reach wherever the clone sits, stopped and removed on exit), then runs
# every test of the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/peer-venv
if ! "$venv/bin/python" -c "import winrm, check_jsonschema" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check pywinrm check-jsonschema
fi
export CMDEPLOY_PEER_PYTHON="$PWD/$venv/bin/python"
source tests/support/pg.sh
pg_start
cargo test "$@"
