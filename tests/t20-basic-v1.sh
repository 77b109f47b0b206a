#!/usr/bin/env bash
# t20-basic-v1: t20-basic on a format-1 vault (format 1 stays readable and writable, docs/FORMAT.md §10).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t20-basic.sh"
