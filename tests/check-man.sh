#!/bin/sh
# SPDX-License-Identifier: MIT
# check-man.sh TASKFS TASKCTL DOCS: the man pages in DOCS format without a
# single warning, and name every option and command that 'taskfs --help'
# and 'taskctl [COMMAND] --help' print, and every key of taskfs.yaml.
set -u
taskfs=$1
taskctl=$2
docs=$3
status=0

fail() {
  echo "check-man: $*" >&2
  status=1
}

if ! command -v man >/dev/null || ! command -v col >/dev/null; then
  echo "check-man: man and col are needed (Debian: man-db, groff-base," \
    "bsdextrautils)" >&2
  exit 1
fi

text=$(mktemp -d)
trap 'rm -rf "$text"' EXIT

for page in taskfs.1 taskctl.1 taskfs.yaml.5; do
  if [ ! -f "$docs/$page" ]; then
    fail "$docs/$page is missing"
    continue
  fi
  warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$docs/$page" \
    2>&1 >/dev/null)
  if [ -n "$warnings" ]; then
    fail "$page: man --warnings:"
    echo "$warnings" >&2
  fi
done

# The text of each page in $text/PAGE, as plain ASCII on lines long
# enough never to break a word (the pages turn hyphenation off).
for page in taskfs.1 taskctl.1 taskfs.yaml.5; do
  MANWIDTH=1000 LC_ALL=C.UTF-8 man -E ascii -l "$docs/$page" 2>/dev/null |
    col -bx >"$text/$page"
done

# need PAGE TOKEN WHAT: TOKEN appears in PAGE as a word.
need() {
  if ! grep -qwF -e "$2" "$text/$1"; then
    fail "$1 does not mention $3 '$2'"
  fi
}

# Options: the -x and --long words of a help text.
options() {
  grep -oE -- '(^|[ ,[])--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[ ,[]//' | sort -u
}

help=$("$taskfs" --help) || fail "taskfs --help failed"
for opt in $(echo "$help" | options); do
  need taskfs.1 "$opt" "the option"
done
# The -o options, each as "-o name".
for name in $(echo "$help" | grep -oE -- '-o [a-z_]+' | cut -c4- | sort -u); do
  need taskfs.1 "-o $name" "the option"
done

help=$("$taskctl" --help) || fail "taskctl --help failed"
commands=$(echo "$help" | awk '/^commands:/ { on = 1; next } on && /^$/ { exit }
  on { w = ""; for (i = 1; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++)
         w = w (w == "" ? "" : " ") $i; print w }')
[ -n "$commands" ] || fail "taskctl --help lists no commands"
echo "$commands" | while read -r cmd; do
  if ! grep -qwF -e "$cmd" "$text/taskctl.1"; then
    echo "check-man: taskctl.1 does not mention the command '$cmd'" >&2
    exit 1
  fi
done || status=1
for opt in $(echo "$help" | options); do
  need taskctl.1 "$opt" "the option"
done
echo "$commands" | while read -r cmd; do
  # shellcheck disable=SC2086
  for opt in $("$taskctl" $cmd --help | options); do
    if ! grep -qwF -e "$opt" "$text/taskctl.1"; then
      echo "check-man: taskctl.1 does not mention '$opt' of '$cmd'" >&2
      exit 1
    fi
  done
done || status=1

# Every key and value of the example configuration.
for word in $(grep -oE '^ *[a-z_]+: *[a-z_0-9]*' "$docs/taskfs.yaml" |
  tr -d ' ' | tr ':' '\n' | sort -u); do
  need taskfs.yaml.5 "$word" "the setting"
done

exit $status
