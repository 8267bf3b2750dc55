#!/bin/sh
# Install Debian's chromium for the browser tests (tests/e2e/test_playground.py) if it is missing.
# Idempotent and quiet: does nothing when /usr/bin/chromium is already there.
# Playwright drives this binary (executable_path); never run `playwright install`.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "ensure_chromium: $CHROMIUM is missing and this user cannot install packages" >&2
        exit 1
    fi
fi

$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null

if [ ! -x "$CHROMIUM" ]; then
    echo "ensure_chromium: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
