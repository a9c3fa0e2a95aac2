#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the dashboard's browser test (idempotent) and
# print its path on the last line.  Playwright drives this binary; it downloads no browser.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "browser.sh: /usr/bin/chromium is missing (apt-get install chromium)" >&2; exit 3
  fi
fi
echo /usr/bin/chromium
