#!/usr/bin/env bash
# t25-misc-v1: t25-misc on a format-1 vault (format 1 stays readable and writable, docs/FORMAT.md §10).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t25-misc.sh"
