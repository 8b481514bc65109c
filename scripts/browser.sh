#!/usr/bin/env bash
# Installs Debian's chromium for test/view/view.test.ts, which drives it headless through playwright-core (no
# browser download). Best effort: a failure prints a skip message and the script still exits 0, because the
# browser test skips when chromium is absent rather than fail.
set -uo pipefail

if command -v chromium >/dev/null; then
  echo "browser: $(chromium --version 2>/dev/null || echo chromium) already here"
# The same lock as scripts/python-peers.sh: concurrent runs take turns on apt's package lock.
elif command -v apt-get >/dev/null \
  && flock /tmp/apt.lock sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium' >/dev/null \
  && command -v chromium >/dev/null; then
  echo "browser: $(chromium --version 2>/dev/null) installed"
else
  echo "browser: SKIP chromium (apt-get install chromium failed or not root); the viewer test will skip"
fi
exit 0
