#!/bin/sh
# The fleet playbook parses: ansible-playbook --syntax-check (77 without
# ansible-playbook; Debian package ansible-core).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v ansible-playbook >/dev/null || { echo "SKIP: needs ansible-playbook (ansible-core)"; exit 77; }
ANSIBLE_LOCAL_TEMP=$(mktemp -d) || exit 1
export ANSIBLE_LOCAL_TEMP
trap 'rm -rf "$ANSIBLE_LOCAL_TEMP"' EXIT
ansible-playbook --syntax-check -i localhost, "$top_srcdir/packaging/ansible/portctl-rules.yml"
