/* SPDX-License-Identifier: MIT */
/* output.c: taskctl's text output: "key: value" lines for one record and
 * aligned tables for lists. (JSON is json.c's.) */
#include "taskctl.h"
#include "util.h"

#include <stdarg.h>
#include <string.h>

/* The column where values start in "key: value" lines. */
#define KEY_WIDTH 16

void out_kv(const char *key, const char *value) {
  int pad = KEY_WIDTH - (int)strlen(key) - 1;
  printf("%s:", key);
  if (!value || !*value) {
    putchar('\n');
    return;
  }
  for (const char *p = value; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    /* No trailing blanks on the empty lines of a value. */
    if (n)
      printf("%*s", p == value ? (pad > 0 ? pad : 1) : KEY_WIDTH, "");
    fwrite(p, 1, n, stdout);
    putchar('\n');
    if (!nl)
      break;
    p = nl + 1;
  }
}

void out_kvf(const char *key, const char *fmt, ...) {
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  out_kv(key, b.ptr);
  buf_release(&b);
}

/* Columns as a terminal shows them: UTF-8 continuation bytes take none.
 * (Wide characters such as emoji are rare in ids and names.) */
static size_t text_width(const char *s) {
  size_t w = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xc0) != 0x80)
      w++;
  return w;
}

void table_init(struct table *t, size_t ncols, unsigned right,
                const char *const *header) {
  memset(t, 0, sizeof *t);
  t->ncols = ncols;
  t->right = right;
  table_row(t, header);
}

void table_row(struct table *t, const char *const *cells) {
  for (size_t i = 0; i < t->ncols; i++) {
    char *s = xstrdup(cells[i] ? cells[i] : "");
    /* One row, one line: a tab or newline would break the columns. */
    for (char *p = s; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f)
        *p = ' ';
    XGROW(t->cells.v, t->cells.cap, t->cells.n + 1);
    t->cells.v[t->cells.n++] = s;
  }
}

void table_print(struct table *t, FILE *f) {
  size_t *width = xcalloc(t->ncols, sizeof *width);
  for (size_t i = 0; i < t->cells.n; i++) {
    size_t w = text_width(t->cells.v[i]);
    if (w > width[i % t->ncols])
      width[i % t->ncols] = w;
  }
  for (size_t i = 0; i < t->cells.n; i++) {
    size_t col = i % t->ncols;
    const char *s = t->cells.v[i];
    bool last = col + 1 == t->ncols;
    int pad = (int)(width[col] - text_width(s));
    if (t->right & (1u << col))
      fprintf(f, "%*s%s", pad, "", s);
    else
      fprintf(f, "%s%*s", s, last ? 0 : pad, "");
    fputs(last ? "\n" : "  ", f);
  }
  free(width);
}

void table_release(struct table *t) {
  strlist_clear(&t->cells);
  memset(t, 0, sizeof *t);
}
