#!/bin/sh
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL cluster for the tests, run as the postgres user
# in a folder of its own, reached through a Unix socket in it and, when
# addresses are given, on TCP at those addresses of this machine.
#
#   tests/pg-cluster.sh start DIR [ADDR,...]   prints the URI of its test
#                                              database (on the socket)
#   tests/pg-cluster.sh restart DIR            stops and starts it again
#   tests/pg-cluster.sh resume DIR             starts it again after stop
#   tests/pg-cluster.sh stop DIR               stops it (the folder stays)
#
# The database "taskfs_test" belongs to the role "taskfs", which logs in
# with the password "taskfs-secret" (scram-sha-256); the role postgres
# logs in without one; on TCP only taskfs logs in, from the subnets of
# the addresses listened on. The tests give the
# password in URIs to check that it is never shown.
set -eu
cmd=${1:?usage: pg-cluster.sh start|restart|resume|stop DIR}
dir=${2:?usage: pg-cluster.sh start|restart|resume|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-cluster.sh: no PostgreSQL server installed" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  chmod 700 "$dir"
  port=$((50000 + $$ % 10000))
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
    --auth-host=reject -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  addrs=${3:-}
  cat >"$dir/data/pg_hba.conf" <<EOF
local all taskfs scram-sha-256
local all all trust
EOF
  # Clients on the subnets of the addresses listened on.
  [ -n "$addrs" ] &&
    echo "host all taskfs samenet scram-sha-256" >>"$dir/data/pg_hba.conf"
  echo "-k $dir -p $port -c listen_addresses='$addrs'" >"$dir/options"
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "$(cat "$dir/options")" start >/dev/null
  echo "$port" >"$dir/port"
  as_pg psql -h "$dir" -p "$port" -U postgres -d postgres -qX \
    -c "CREATE ROLE taskfs LOGIN PASSWORD 'taskfs-secret'" \
    -c "CREATE DATABASE taskfs_test OWNER taskfs" >/dev/null
  # Sockets in the folder are reachable by the tests' user.
  chmod 711 "$dir"
  echo "postgresql://taskfs:taskfs-secret@/taskfs_test?host=$dir&port=$port"
  ;;
resume)
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "$(cat "$dir/options")" start >/dev/null
  ;;
restart)
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w \
    -o "$(cat "$dir/options")" restart >/dev/null
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
*)
  echo "usage: pg-cluster.sh start|restart|resume|stop DIR" >&2
  exit 2
  ;;
esac
