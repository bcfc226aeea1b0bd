#!/usr/bin/env bash
# The whole test suite, peers included: creates target/peer-venv with pywinrm (once), then runs
# `cargo test` with CMDEPLOY_PEER_PYTHON pointing at it. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/peer-venv
if ! "$venv/bin/python" -c 'import winrm' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pywinrm
fi
CMDEPLOY_PEER_PYTHON="$PWD/$venv/bin/python" exec cargo test "$@"
