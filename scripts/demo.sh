#!/usr/bin/env bash
# README command 1: set up, then run the demo on the bundled German credit data:
# train a model, register it, audit it through the register, approve it as a second person, build the site.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/governance demo "$@"
