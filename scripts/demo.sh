#!/usr/bin/env bash
# The main job: the webfarm VNF's whole lifecycle on the embedded local VIM.
# Needs root (network namespaces); uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=VNFM_HOME .venv/bin/vnfm demo "$@"
fi
exec .venv/bin/vnfm demo "$@"
