#!/usr/bin/env bash
# t22-rename-v1: t22-rename on a format-1 vault (format 1 stays readable and writable, docs/FORMAT.md §10).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t22-rename.sh"
