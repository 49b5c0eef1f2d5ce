/* SPDX-License-Identifier: MIT */
/* fuzz_parse.c: any bytes through parse_doc, as every kind of file. Checks
 * what holds for any input: diagnostics point at lines of the text, and a
 * text read without errors names its tasks and sections. */
#include "fuzz.h"
#include "parse.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const int hints[] = {DOC_GROUP, DOC_TASK, DOC_SESSION, DOC_NOTES,
                            DOC_UNKNOWN};

static void check_sections(const struct psection *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!v[i].key || !*v[i].key)
      die("fuzz_parse: section at line %d has an empty key", v[i].line);
}

static void check_doc(const struct doc *d, int hint, int max_line) {
  int errors = 0, warnings = 0;
  for (size_t i = 0; i < d->diags.n; i++) {
    const struct diag *g = &d->diags.v[i];
    if (g->line < 0 || g->line > max_line)
      die("fuzz_parse: hint %d: diagnostic at line %d of a %d-line text: %s",
          hint, g->line, max_line - 1, g->msg ? g->msg : "(null)");
    if (!g->msg)
      die("fuzz_parse: hint %d: diagnostic without a message", hint);
    if (g->level == DIAG_ERROR)
      errors++;
    else
      warnings++;
  }
  if (errors != d->diags.errors || warnings != d->diags.warnings)
    die("fuzz_parse: hint %d: counts %d/%d, diagnostics %d/%d", hint,
        d->diags.errors, d->diags.warnings, errors, warnings);
  if (d->diags.errors)
    return;
  for (size_t i = 0; i < d->ntasks; i++) {
    const struct ptask *t = &d->tasks[i];
    if (t->id && !*t->id)
      die("fuzz_parse: hint %d: task at line %d has an empty id", hint,
          t->line);
    check_sections(t->sections, t->nsections);
  }
  check_sections(d->sections, d->nsections);
}

void fuzz_parse_one(const uint8_t *data, size_t size) {
  /* An exact-size copy: parse_doc takes a length, not a C string, so a
   * read past it is a bug the sanitizer should see. */
  char *text = xmalloc(size ? size : 1);
  memcpy(text, data, size);
  /* Lines as the parser counts them: LF, CR LF and a lone CR end a
   * line. */
  int lines = 1;
  for (size_t i = 0; i < size; i++)
    lines += text[i] == '\n' ||
             (text[i] == '\r' && (i + 1 == size || text[i + 1] != '\n'));
  for (size_t h = 0; h < sizeof hints / sizeof *hints; h++) {
    struct doc doc;
    struct buf out = BUF_INIT;
    parse_doc(text, size, hints[h], &doc);
    diags_format(&doc.diags, &out);
    check_doc(&doc, hints[h], lines + 1);
    buf_release(&out);
    doc_release(&doc);
  }
  free(text);
}

#ifdef FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_parse_one(data, size);
  return 0;
}
#endif
