#!/bin/sh
# SPDX-License-Identifier: MIT
# The layers stay apart: engine/ includes no FUSE header and no jansson
# (JSON there is SQLite's); fs/ includes no sqlite3.h and writes no SQL;
# tools/ uses neither FUSE nor SQL itself.
cd "$(dirname "$0")/.." || exit 2
fail=0
if grep -n '#include *[<"]fuse' engine/*.c engine/*.h tools/*.c tools/*.h; then
  echo "engine/ and tools/ must not include FUSE headers"
  fail=1
fi
if grep -n '#include *[<"]jansson' engine/*.c engine/*.h fs/*.c fs/*.h; then
  echo "jansson is for taskctl's MCP server only"
  fail=1
fi
if grep -nE '#include *[<"]sqlite3\.h|(SELECT .* FROM|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM)' \
     fs/*.c fs/*.h tools/*.c tools/*.h; then
  echo "fs/ and tools/ must not use SQLite directly or write SQL"
  fail=1
fi
[ $fail -eq 0 ] && echo "layers: ok"
exit $fail
