/* SPDX-License-Identifier: MIT */
/* escape.c: keeping free text from reading as structure. */
#include "escape.h"
#include "model.h"
#include "util.h"

#include <ctype.h>
#include <string.h>

/* Does the line (without leading spaces and backslashes) start structure
 * in a generated file? */
static bool structural(const char *core, size_t n) {
  if (n && core[0] == '#')
    return true;
  if (n && (core[0] == '=' || core[0] == '-')) {
    size_t i = 0;
    while (i < n && core[i] == core[0])
      i++;
    while (i < n && (core[i] == ' ' || core[i] == '\t'))
      i++;
    if (i == n)
      return true;
  }
  if (n > 4 && core[0] == '*' && core[1] == '*') {
    const char *close = NULL;
    for (size_t i = 2; i + 1 < n; i++)
      if (core[i] == '*' && core[i + 1] == '*') {
        close = core + i;
        break;
      }
    if (close && close - core - 2 < 60) {
      char raw[64], word[64];
      size_t k = (size_t)(close - core - 2);
      memcpy(raw, core + 2, k);
      raw[k] = '\0';
      words_normalize(raw, word, sizeof word);
      return strcmp(word, "deliverables") == 0 ||
             strcmp(word, "current status") == 0;
    }
  }
  return false;
}

/* Tracks fenced code blocks across lines: returns true when the line is
 * inside one (or is one of its fences). */
static bool in_fence(const char *s, size_t n, char *fch, size_t *flen) {
  size_t i = 0;
  while (i < n && i < 3 && s[i] == ' ')
    i++;
  size_t k = i;
  char c = i < n ? s[i] : 0;
  if (c == '`' || c == '~')
    while (k < n && s[k] == c)
      k++;
  size_t run = k - i;
  if (*flen) {
    /* Inside: a closing fence is only fence characters. */
    size_t j = k;
    while (j < n && (s[j] == ' ' || s[j] == '\t'))
      j++;
    if (c == *fch && run >= *flen && j == n)
      *flen = 0;
    return true;
  }
  if (run >= 3) {
    *fch = c;
    *flen = run;
    return true;
  }
  return false;
}

static void each_line(const char *text, struct buf *out, int delta) {
  char fch = 0;
  size_t flen = 0;
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (!in_fence(p, n, &fch, &flen)) {
      size_t sp = 0;
      while (sp < n && sp < 3 && p[sp] == ' ')
        sp++;
      size_t bs = sp;
      while (bs < n && p[bs] == '\\')
        bs++;
      if (structural(p + bs, n - bs) && (delta > 0 || bs > sp)) {
        buf_add(out, p, sp);
        if (delta > 0) {
          buf_addc(out, '\\');
          buf_add(out, p + sp, n - sp);
        } else {
          buf_add(out, p + sp + 1, n - sp - 1);
        }
        goto next;
      }
    }
    buf_add(out, p, n);
  next:
    if (nl)
      buf_addc(out, '\n');
    p += n + (nl ? 1 : 0);
  }
}

void escape_text(const char *text, struct buf *out) {
  each_line(text ? text : "", out, 1);
}

char *unescape_text(const char *text) {
  struct buf out = BUF_INIT;
  each_line(text ? text : "", &out, -1);
  return buf_detach(&out, NULL);
}

void escape_heading(const char *title, struct buf *out) {
  size_t n = strlen(title), h = n;
  while (h > 0 && title[h - 1] == '#')
    h--;
  if (h == n) {
    buf_add(out, title, n);
    return;
  }
  buf_add(out, title, h);
  buf_addc(out, '\\');
  buf_add(out, title + h, n - h);
}

void heading_unescape(char *text) {
  size_t n = strlen(text), h = n;
  while (h > 0 && text[h - 1] == '#')
    h--;
  if (h < n && h > 0 && text[h - 1] == '\\')
    memmove(text + h - 1, text + h, n - h + 1);
}
