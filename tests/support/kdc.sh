# Sourced by tests/run.sh: a throwaway MIT Kerberos KDC on loopback for the Kerberos tests.
#
# Installs Debian's krb5-kdc, krb5-admin-server and krb5-user when krb5kdc/kdb5_util/kadmin.local
# are missing, creates the realm CONTOSO.COM (Active Directory names its realm after the DNS
# domain, in capitals) in a fresh directory made by mktemp under /tmp, with
#   * cmadmin@CONTOSO.COM, the lab's administrator, with the password of
#     examples/contoso/lab-secrets/admin.txt (the lab holds the same user and password), with
#     pre-authentication required, as Active Directory requires it by default;
#   * HTTP/<host>@CONTOSO.COM for every domain host of examples/contoso/lab.toml (the SPN a WinRM
#     client asks for), with their keys in a keytab for `cmdeploy lab serve --keytab`;
# starts krb5kdc on a free loopback port (TCP and UDP), exports KRB5_CONFIG (a krb5.conf naming
# that KDC), CMDEPLOY_TEST_KRB5_KEYTAB and CMDEPLOY_TEST_KRB5_REALM, and on exit stops the KDC
# and removes the directory. The recipe is k5test's (pythongssapi/k5test `k5test/realm.py`):
# every file in one directory, no /etc paths, so it runs as root or as any user.
# Set CMDEPLOY_TEST_KRB5_KEYTAB and KRB5_CONFIG yourself to use another KDC instead.

kdc_fail() { echo "tests/run.sh: $*" >&2; exit 1; }

kdc_install() {
  command -v apt-get >/dev/null 2>&1 ||
    kdc_fail "MIT Kerberos (krb5kdc, kdb5_util, kadmin.local) is missing and apt-get is not available: install krb5-kdc and krb5-admin-server, or set KRB5_CONFIG and CMDEPLOY_TEST_KRB5_KEYTAB"
  [ "$(id -u)" = 0 ] ||
    kdc_fail "MIT Kerberos (krb5kdc, kdb5_util, kadmin.local) is missing: run 'apt-get install -y krb5-kdc krb5-admin-server krb5-user' as root"
  echo "tests/run.sh: installing MIT Kerberos from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || kdc_fail "apt-get update failed"
  apt-get install -y -qq krb5-kdc krb5-admin-server krb5-user >&2 ||
    kdc_fail "apt-get install krb5-kdc krb5-admin-server krb5-user failed"
}

kdc_tool() {
  local t
  for t in "$1" "/usr/sbin/$1"; do
    command -v "$t" >/dev/null 2>&1 && { command -v "$t"; return; }
  done
}

kdc_start() {
  if [ -n "${CMDEPLOY_TEST_KRB5_KEYTAB:-}" ] && [ -n "${KRB5_CONFIG:-}" ]; then
    return
  fi
  if [ -z "$(kdc_tool krb5kdc)" ] || [ -z "$(kdc_tool kdb5_util)" ] || [ -z "$(kdc_tool kadmin.local)" ] || [ -z "$(kdc_tool kinit)" ]; then
    kdc_install
  fi
  local krb5kdc kdb5_util kadmin realm=CONTOSO.COM port password host
  krb5kdc=$(kdc_tool krb5kdc)
  kdb5_util=$(kdc_tool kdb5_util)
  kadmin=$(kdc_tool kadmin.local)
  [ -n "$krb5kdc" ] && [ -n "$kdb5_util" ] && [ -n "$kadmin" ] ||
    kdc_fail "MIT Kerberos was installed but krb5kdc, kdb5_util or kadmin.local is not found"
  KDC_ROOT=$(mktemp -d /tmp/cmdeploy-kdc.XXXXXXXX) || kdc_fail "mktemp failed"
  KDC_PID=""
  trap 'kdc_stop; pg_stop' EXIT
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # Each relation on its own line: a one-line realm stanza is not read (kinit: "Cannot find KDC").
  cat >"$KDC_ROOT/krb5.conf" <<EOF
[libdefaults]
    default_realm = $realm
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
[realms]
    $realm = {
        kdc = 127.0.0.1:$port
    }
[domain_realm]
    .contoso.com = $realm
    contoso.com = $realm
EOF
  cat >"$KDC_ROOT/kdc.conf" <<EOF
[realms]
    $realm = {
        database_name = $KDC_ROOT/db
        key_stash_file = $KDC_ROOT/stash
        acl_file = $KDC_ROOT/acl
        kdc_ports = $port
        kdc_tcp_ports = $port
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }
EOF
  : >"$KDC_ROOT/acl"
  export KRB5_CONFIG="$KDC_ROOT/krb5.conf" KRB5_KDC_PROFILE="$KDC_ROOT/kdc.conf"
  export KRB5CCNAME="FILE:$KDC_ROOT/ccache"
  {
    "$kdb5_util" create -s -r "$realm" -P "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" &&
      password=$(tr -d '\r\n' <examples/contoso/lab-secrets/admin.txt) &&
      "$kadmin" -r "$realm" -q "addprinc +requires_preauth -pw $password cmadmin" &&
      for host in $(sed -n 's/^fqdn = "\(.*\.contoso\.com\)"$/\1/p' examples/contoso/lab.toml); do
        "$kadmin" -r "$realm" -q "addprinc -randkey HTTP/$host" &&
          "$kadmin" -r "$realm" -q "ktadd -k $KDC_ROOT/http.keytab HTTP/$host" || exit 1
      done
  } >"$KDC_ROOT/setup.log" 2>&1 || {
    sed 's/^/  | /' "$KDC_ROOT/setup.log" >&2
    kdc_fail "creating the test realm failed"
  }
  "$krb5kdc" -n -P "$KDC_ROOT/kdc.pid" >"$KDC_ROOT/kdc.log" 2>&1 &
  KDC_PID=$!
  local i
  for i in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
  done
  kill -0 "$KDC_PID" 2>/dev/null || { sed 's/^/  | /' "$KDC_ROOT/kdc.log" >&2; kdc_fail "krb5kdc did not start"; }
  export CMDEPLOY_TEST_KRB5_KEYTAB="$KDC_ROOT/http.keytab" CMDEPLOY_TEST_KRB5_REALM="$realm"
  echo "tests/run.sh: Kerberos KDC for $realm on 127.0.0.1:$port (files in $KDC_ROOT)" >&2
}

# Stops the KDC (when it started) and removes its directory.
kdc_stop() {
  if [ -n "${KDC_PID:-}" ]; then
    kill "$KDC_PID" 2>/dev/null || true
    wait "$KDC_PID" 2>/dev/null || true
  fi
  [ -n "${KDC_ROOT:-}" ] && rm -rf "$KDC_ROOT"
}
