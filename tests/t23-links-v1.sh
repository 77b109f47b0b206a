#!/usr/bin/env bash
# t23-links-v1: t23-links on a format-1 vault (format 1 stays readable and writable, docs/FORMAT.md §10).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t23-links.sh"
