#!/bin/sh
# SPDX-License-Identifier: MIT
# The layers stay apart: engine/ includes no FUSE header and no jansson,
# and only its SQLite backend includes sqlite3.h;
# fs/ includes no sqlite3.h, no jansson and writes no SQL; tools/ uses
# neither FUSE nor SQL itself; engine/doc/ (the file format) reads no store.
cd "$(dirname "$0")/.." || exit 2
fail=0
if grep -rn --include='*.[ch]' '#include *[<"]fuse' engine tools; then
  echo "engine/ and tools/ must not include FUSE headers"
  fail=1
fi
if grep -rn --include='*.[ch]' '#include *[<"]jansson' engine fs; then
  echo "jansson is for taskctl only"
  fail=1
fi
if grep -rnE --include='*.[ch]' \
     '#include *[<"]sqlite3\.h|(SELECT .* FROM|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM)' \
     fs tools; then
  echo "fs/ and tools/ must not use SQLite directly or write SQL"
  fail=1
fi
# Above the backend table the store speaks no SQL: only the SQLite
# backend's files (engine/store/sqlite*) include sqlite3.h.
if grep -rln --include='*.[ch]' '#include *[<"]sqlite3\.h' engine |
     grep -v '^engine/store/sqlite'; then
  echo "only the SQLite backend (engine/store/sqlite*) may use SQLite"
  fail=1
fi
if grep -rnE --include='*.[ch]' '#include *[<"](store|backend|sqlite|sqlite3)\.h' \
     engine/doc; then
  echo "engine/doc/ is pure: the store is read by engine/load.c"
  fail=1
fi
# Likewise only the PostgreSQL backend (engine/store/pg*) uses libpq.
if grep -rln --include='*.[ch]' '#include *[<"]libpq' engine fs tools |
     grep -v '^engine/store/pg'; then
  echo "only the PostgreSQL backend (engine/store/pg*) may use libpq"
  fail=1
fi
[ $fail -eq 0 ] && echo "layers: ok"
exit $fail
