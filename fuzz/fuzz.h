/* SPDX-License-Identifier: MIT */
/* fuzz.h: the checks behind the fuzz targets. Each takes one input, runs
 * it through the engine and aborts when an invariant breaks; they need no
 * libFuzzer, so tests/engine/test_fuzz_regressions.c replays saved inputs
 * through the same code. Built with FUZZ_MAIN, each file also defines
 * LLVMFuzzerTestOneInput. */
#ifndef TASKFS_FUZZ_H
#define TASKFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* parse_doc under every kind hint, with diags_format. */
void fuzz_parse_one(const uint8_t *data, size_t size);

/* merge_lines on the input split at its first two NUL bytes into base,
 * ours and theirs; then the whole input saved as the frontend group file
 * of a fresh fixture database. */
void fuzz_merge_one(const uint8_t *data, size_t size);

/* The input split at its first NUL into a text and an edit of it (no
 * NUL: the edit ticks the first box): parse_doc_memo of each, with the
 * memo of the other, against parse_doc; then both saved in turn with and
 * without a memo on two fixture databases, with the same results. */
void fuzz_memo_one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
