#!/usr/bin/env bash
# Debian's chromium + chromium-driver for the browser tests (never `playwright install`: it downloads a browser).
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo -n"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
  || echo "warning: could not install chromium; browser tests will be skipped" >&2
exit 0
