/* SPDX-License-Identifier: MIT */
/* fixture.h: a small deterministic database for engine tests. */
#ifndef TASKFS_FIXTURE_H
#define TASKFS_FIXTURE_H

#include "store.h"

/* Opens a fresh :memory: store with session "s1" ("Dashboard"), groups
 * "frontend_group_001" (name frontend) and "backend_group_001" (backend),
 * and tasks t1..t4 in frontend and t5 in backend. Aborts on failure.
 * With TASKFS_FIXTURE_PG in the environment the store is a fresh schema
 * of the PostgreSQL database TASKFS_TEST_PG names instead; the process
 * exits with 77 (a skipped test) when that is not set. */
struct store *fixture_open(void);
/* The same records in a new database file at path (which must not
 * exist), for tests that reach it with a second connection. */
struct store *fixture_open_at(const char *path);
/* A target in a new, empty schema of the PostgreSQL database that
 * TASKFS_TEST_PG names, or NULL when it is not set; the schema is
 * dropped when the process exits. Free the result with free(). */
char *fixture_pg_target(void);

#endif
