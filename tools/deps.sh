#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deps.sh: installs the Debian packages taskfs needs to build, run and be
# tested, when some are missing. Sourced by run-demo and run-tests.
#   TASKFS_DEPS=build   only what building and mounting need
#   TASKFS_DEPS=test    also the editors and tools the tests drive (default)

build_pkgs=(build-essential meson ninja-build pkg-config libfuse3-dev fuse3
            libsqlite3-dev sqlite3 libcmark-dev libyaml-dev libjansson-dev
            libpq-dev)
test_pkgs=(python3-pytest vim neovim nano emacs-nox tmux rsync git perl
           nodejs clang libclang-rt-14-dev valgrind man-db strace
           groff-base bsdextrautils mount postgresql-15 python3-psycopg2
           iproute2)

taskfs_deps() {
  local want=("${build_pkgs[@]}")
  [ "${TASKFS_DEPS:-test}" = build ] || want+=("${test_pkgs[@]}")
  local missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "taskfs: installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}
