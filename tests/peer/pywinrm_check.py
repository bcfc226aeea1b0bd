"""Peer check: pywinrm against `cmdeploy lab serve` configured as Windows ships WinRM.

Usage: pywinrm_check.py PORT PASSWORD_FILE
Logs in as CONTOSO\\cmadmin with the password read from PASSWORD_FILE (never printed) over NTLM
with message encryption (pywinrm's default over HTTP: the body is sealed as
multipart/encrypted), runs two statements with Session.run_ps, checks that Basic over HTTP is
refused with 401, and prints OK when all behave as on a site server.
"""

import json
import sys

import winrm


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        fail("usage: pywinrm_check.py PORT PASSWORD_FILE")
    port = int(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        pw = f.read().rstrip("\r\n")
    endpoint = f"http://127.0.0.1:{port}/wsman"
    session = winrm.Session(
        endpoint,
        auth=("CONTOSO\\cmadmin", pw),
        transport="ntlm",
        message_encryption="always",
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
    if r.status_code == 0:
        fail("Get-CMBoundaryGroup -Bogus 1 succeeded")
    if b"Bogus" not in r.std_err:
        fail(f"stderr does not name the bad parameter: {r.std_err!r}")

    basic = winrm.Session(endpoint, auth=("CONTOSO\\cmadmin", pw), transport="basic")
    try:
        basic.run_ps("Get-CMSite")
        fail("Basic over HTTP was accepted")
    except winrm.exceptions.InvalidCredentialsError:
        pass

    print("OK")


if __name__ == "__main__":
    main()
