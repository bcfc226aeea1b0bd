"""Peer check: pywinrm with Kerberos against `cmdeploy lab serve --keytab`, as a domain member.

Usage: pywinrm_kerberos_check.py PORT PASSWORD_FILE
Gets a ticket for cmadmin@CONTOSO.COM with MIT's kinit (the password read from PASSWORD_FILE,
given on stdin, never printed) into a fresh ticket cache, from the KDC of KRB5_CONFIG, then logs on
with pywinrm's Kerberos transport (pykerberos, MIT GSSAPI: `Authorization: Negotiate` with a
Kerberos token for HTTP/cm01.contoso.com) and message encryption (the body sealed with GSSAPI wrap
tokens as multipart/encrypted), runs a statement and a failing one, and prints OK when both behave
as on a site server.
"""

import json
import os
import subprocess
import sys
import tempfile


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        fail("usage: pywinrm_kerberos_check.py PORT PASSWORD_FILE")
    port = int(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        pw = f.read().rstrip("\r\n")
    cache = tempfile.mkdtemp()
    os.environ["KRB5CCNAME"] = f"FILE:{cache}/ccache"
    kinit = subprocess.run(
        ["kinit", "cmadmin@CONTOSO.COM"], input=pw + "\n", text=True, capture_output=True
    )
    if kinit.returncode != 0:
        fail(f"kinit failed: {kinit.stderr.strip()}")

    import winrm

    session = winrm.Session(
        f"http://127.0.0.1:{port}/wsman",
        auth=("cmadmin@CONTOSO.COM", ""),
        transport="kerberos",
        message_encryption="always",
        kerberos_hostname_override="cm01.contoso.com",
    )
    r = session.run_ps("Get-CMBoundaryGroup | ConvertTo-Json")
    if r.status_code != 0:
        fail(f"Get-CMBoundaryGroup exited {r.status_code}: {r.std_err!r}")
    groups = json.loads(r.std_out.decode("utf-8"))
    if isinstance(groups, dict):
        groups = [groups]
    names = [g.get("Name") for g in groups]
    if "HQ Clients" not in names:
        fail(f"no 'HQ Clients' among the boundary groups {names}")
    r = session.run_ps("Get-CMBoundaryGroup -Bogus 1")
    if r.status_code == 0 or b"Bogus" not in r.std_err:
        fail(f"a bad parameter did not fail with its name: {r.status_code} {r.std_err!r}")
    print("OK")


if __name__ == "__main__":
    main()
