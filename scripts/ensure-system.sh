#!/usr/bin/env bash
# Make sure Debian packages that provide the given commands are installed.
# Usage: scripts/ensure-system.sh command[:package] ...
#        (`import.module:package` asks for a module of Debian's python3, e.g. ensurepip)
# As root, missing packages are installed with apt-get; otherwise we stop and print
# the exact command to run, because a half-working platform is worse than none.
set -euo pipefail

missing=()
for spec in "$@"; do
  cmd=${spec%%:*}
  pkg=${spec#*:}
  [ "$pkg" = "$spec" ] && pkg=$cmd
  if [[ $cmd == import.* ]]; then
    "${PYTHON:-python3}" -c "import ${cmd#import.}" 2>/dev/null || missing+=("$pkg")
    continue
  fi
  # PostgreSQL's server programs live in /usr/lib/postgresql/<version>/bin, off PATH.
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] \
      && ! compgen -G "/usr/lib/postgresql/*/bin/$cmd" >/dev/null; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
