#!/usr/bin/env bash
# Install everything the tests need into .venv (and Debian's chromium for the browser tests, haproxy,
# postgresql and supervisor for tests/test_serve.py), then run them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v npm >/dev/null 2>&1 || missing+=(npm)  # installs axe-core for tests/e2e/test_accessibility.py
command -v supervisord >/dev/null 2>&1 || missing+=(supervisor)  # keeps scripts/serve.sh's workers running
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)  # the page icons in screenshots
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
