#!/usr/bin/env bash
# How long `validate` takes to report many diagnostics, as text and as JSON: a project whose
# N boundaries each reference an unknown site (N × cmdeploy::reference::unknown) plus one
# 55 KB CCMSetup line in a GPO. The ideal is linear in N (and under a second at 20,000).
#   bash tests/bench_diagnostics.sh [BINARY] [N...]     (default: target/release/cmdeploy; 2000 8000 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-$PWD/target/release/cmdeploy}"; shift || true
sizes=("${@:-2000 8000 20000}"); read -r -a sizes <<<"${sizes[*]}"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
for n in "${sizes[@]}"; do
  dir="$root/p$n"; mkdir -p "$dir"
  printf '[project]\nname = "diag"\n\n[connection.cm01]\ntransport = "lab"\nhost = "cm01.contoso.com"\n\n[connection.dc01]\ntransport = "lab"\nhost = "dc01.contoso.com"\n' >"$dir/cmdeploy.toml"
  python3 - "$dir/resources.toml" "$n" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write('[site.ABC]\ntype = "primary"\nserver = "cm01.contoso.com"\nconnection = "cm01"\n\n')
    for i in range(n):
        f.write(f'[boundary.b{i}]\nsite = "XY{i % 10}"\ntype = "ad_site"\nvalue = "site{i}"\n\n')
    line = "SMSSITECODE=ABC " + " ".join(f"FOO{i}=1" for i in range(7000))
    f.write(f'[gpo.long]\nname = "Long"\ndomain = "contoso.com"\nconnection = "dc01"\nclient_deployment = {{ setup_parameters = "{line}" }}\n')
PY
  for format in text json; do
    /usr/bin/time -o "$root/t" -f '%e %M' "$bin" -C "$dir" validate --format "$format" >"$root/out" 2>&1 || true
    read -r wall rss < <(tail -n 1 "$root/t")
    printf 'validate --format %-4s %6d diagnostics: %7.2f s wall %6d MB peak RSS %8d bytes of output\n' \
      "$format" "$n" "$wall" "$((rss / 1024))" "$(wc -c <"$root/out")"
  done
done
