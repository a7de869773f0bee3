#!/usr/bin/env bash
# The import graph of src/'s top-level modules, one "from -> to" line per arrow, and a failure
# when it has a cycle. An arrow is any `crate::MODULE` path outside the file's #[cfg(test)] part;
# tsort(1) finds the cycle and names the modules on it.
#
#   bash scripts/layers.sh           # prints the arrows, exits 1 on a cycle
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

arrows=$(
    find src -name '*.rs' | sort | while read -r file; do
        from=${file#src/}
        from=${from%%/*}
        from=${from%.rs}
        # Only the code before the tests; `use crate::{a, b::c}` lists count as well.
        awk '/#\[cfg\(test\)\]/ { exit } { print }' "$file" |
            grep -oE 'crate::(\{[^}]*\}|[a-z_]+)' |
            sed -E 's/^crate:://; s/[{}]//g' | tr ',' '\n' |
            sed -E 's/^[[:space:]]*//; s/::.*//; s/[[:space:]]+.*//' |
            grep -E '^[a-z_]+$' | grep -vx -e self -e "$from" |
            sed "s/^/$from /" || true
    done | sort -u
)
printf '%s\n' "$arrows" | awk '{ print $1 " -> " $2 }'
if ! printf '%s\n' "$arrows" | tsort >/dev/null 2>"${TMPDIR:-/tmp}/layers.$$"; then
    echo "layers.sh: the imports have a cycle through these modules:" >&2
    grep -v 'input contains a loop' "${TMPDIR:-/tmp}/layers.$$" | sed 's/^tsort: /  /' >&2
    rm -f "${TMPDIR:-/tmp}/layers.$$"
    exit 1
fi
rm -f "${TMPDIR:-/tmp}/layers.$$"
echo "layers.sh: no cycle"
