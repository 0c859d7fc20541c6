#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright cannot download browsers on these machines).
# Install it with apt-get when it is missing; fail loudly if that is impossible.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing and this user cannot apt-get install it: run 'sudo apt-get install chromium'" >&2
  exit 1
fi
echo "installing Debian's chromium for the browser tests …"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
