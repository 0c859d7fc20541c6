#!/usr/bin/env bash
# M&M case packets are PDFs made by WeasyPrint, which needs Pango (and HarfBuzz, fontconfig, a font) from the
# system, and HarfBuzz-Subset: without it WeasyPrint warns at import, which the tests treat as an error.
# Install them with apt-get when they are missing; fail loudly if that is impossible.
set -euo pipefail
missing=0
for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0 libharfbuzz-subset.so.0 libfontconfig.so.1; do
  if ! ldconfig -p | grep -q "$lib"; then
    missing=1
  fi
done
if [ "$missing" = "0" ] && fc-list 2>/dev/null | grep -qi dejavu; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "WeasyPrint's system libraries are missing and this user cannot apt-get install them: run" >&2
  echo "  sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core" >&2
  exit 1
fi
echo "installing Pango and fonts for WeasyPrint (M&M case packets) …"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fontconfig fonts-dejavu-core >/dev/null
