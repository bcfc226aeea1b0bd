#!/usr/bin/env bash
# The test suite, for a new user and for CI. It creates target/peer-venv, a Python virtual
# environment with pywinrm and its Kerberos extra (the independent WinRM client that proves
# `cmdeploy lab serve` speaks the protocol Windows speaks; pykerberos builds against Debian's
# libkrb5-dev, installed when missing) and check-jsonschema (the CI pipelines against GitHub's and
# Azure's schemas), and a throwaway PostgreSQL server for the state-backend tests
# (tests/support/pg.sh: installed from Debian's packages when missing, in a mktemp directory under
# /tmp that its user can reach wherever the clone sits, stopped and removed on exit), and a
# throwaway MIT Kerberos KDC for the Kerberos tests (tests/support/kdc.sh: realm CONTOSO.COM on
# loopback, installed from Debian's packages when missing, stopped and removed on exit), then
# runs every test of the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/peer-venv
if ! "$venv/bin/python" -c "import winrm, kerberos, check_jsonschema" 2>/dev/null; then
  # pywinrm's kerberos extra builds pykerberos against MIT's GSSAPI headers (krb5-config).
  if ! command -v krb5-config >/dev/null 2>&1 || ! command -v cc >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || {
      echo "tests/run.sh: pywinrm[kerberos] needs MIT's GSSAPI headers and a C compiler: run 'apt-get install -y libkrb5-dev gcc' as root" >&2
      exit 1
    }
    echo "tests/run.sh: installing libkrb5-dev and gcc from Debian's packages (for pywinrm[kerberos])" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq libkrb5-dev gcc >&2 ||
      { echo "tests/run.sh: apt-get install libkrb5-dev gcc failed" >&2; exit 1; }
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pywinrm[kerberos]" check-jsonschema
fi
export CMDEPLOY_PEER_PYTHON="$PWD/$venv/bin/python"
source tests/support/pg.sh
source tests/support/kdc.sh
pg_start
kdc_start
cargo test "$@"
