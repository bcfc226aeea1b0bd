#!/usr/bin/env bash
# The main job on the bundled example, against the embedded lab:
# reset the lab, plan, apply, plan again (no changes), change something behind cmdeploy's back
# with the lab console, and watch drift catch it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cmdeploy() { ./target/release/cmdeploy -C examples/contoso "$@"; }
step() { printf '\n\033[1m$ cmdeploy %s\033[0m\n' "$*"; }

step lab reset;             cmdeploy lab reset
step plan;                  cmdeploy plan --detailed-exitcode || [ $? -eq 2 ]
step apply --auto-approve;  cmdeploy apply --auto-approve
step plan;                  cmdeploy plan --detailed-exitcode
step lab console;           cmdeploy lab console --connection cm01 \
                              'Set-CMClientPushInstallation -SiteCode ABC -EnableAutomaticClientPushInstallation $false'
step drift;                 cmdeploy drift || [ $? -eq 2 ]
