#!/usr/bin/env bash
# t30-tamper-v1: t30-tamper on a format-1 vault (format 1 stays readable and writable, docs/FORMAT.md §10).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t30-tamper.sh"
