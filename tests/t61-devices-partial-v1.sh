#!/usr/bin/env bash
# t61-devices-partial-v1: t61-devices-partial on a format-1 vault (sidecars, zero-length empty files).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t61-devices-partial.sh"
