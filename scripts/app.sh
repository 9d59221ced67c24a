#!/usr/bin/env bash
# Install the app's requirements into .venv, then start it (http://localhost:8501).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m app.serving.launch run asgi.py "$@"  # streamlit run: the pages and the room feed, deep links fixed
