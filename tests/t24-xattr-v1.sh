#!/usr/bin/env bash
# t24-xattr-v1: t24-xattr on a format-1 vault (format 1 stays readable and writable, docs/FORMAT.md §10).
VL_INIT_FORMAT=1 exec bash "$(dirname "$0")/t24-xattr.sh"
