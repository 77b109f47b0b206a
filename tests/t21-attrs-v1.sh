#!/usr/bin/env bash
# t21-attrs-v1: t21-attrs on a format-1 vault (format 1 stays readable and writable, docs/FORMAT.md §10).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t21-attrs.sh"
