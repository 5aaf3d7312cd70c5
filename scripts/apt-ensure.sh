#!/usr/bin/env bash
# usage: scripts/apt-ensure.sh WHO PACKAGE...
# Installs the Debian packages among PACKAGE that are missing; WHO names the caller in
# its messages. Idempotent: with every package present, apt is not touched at all.
set -euo pipefail

who=$1
shift

missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "$who: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi

echo "$who: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
