/* SPDX-License-Identifier: MIT */
/* escape.c: keeping free text from reading as structure. Which lines are
 * inside code and HTML blocks, and which block would run past the end of a
 * text, is asked of cmark, with the text placed as in its file. */
#include "escape.h"
#include "model.h"
#include "util.h"

#include <cmark.h>
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

/* Could the line (without leading spaces and backslashes) open a fenced
 * code block or an HTML block? A superset of CommonMark's openers. */
static bool opener(const char *core, size_t n) {
  if (n >= 3 && (core[0] == '`' || core[0] == '~'))
    return core[1] == core[0] && core[2] == core[0];
  return n >= 2 && core[0] == '<' &&
         (isalpha((unsigned char)core[1]) || core[1] == '/' || core[1] == '!' ||
          core[1] == '?');
}

/* One line of a free text. */
struct line {
  const char *s; /* its bytes, without the line end */
  size_t n;
  size_t sp;      /* leading spaces (at most 3): an escape goes after them */
  bool ends;      /* a line end follows */
  bool backslash; /* backslashes follow the spaces */
  bool heading;   /* after them, it would read as structure */
  bool opens;     /* after them, it would open a code or HTML block */
  bool neutral;   /* opens without backslashes, escaped to open nothing */
  bool raw;       /* inside a code or HTML block: left as it is */
};

/* What surrounds a text at each place, as far as cmark's reading of the
 * text depends on it. */
static const struct {
  const char *before; /* precedes the first line */
  const char *after;  /* follows the last line end; NULL for nothing */
  bool headings;      /* lines that read as structure are escaped */
} places[] = {
    [ESCAPE_AFTER_LIST] = {"- x\n\n", "\nx\n", true},
    [ESCAPE_BLOCKS] = {"", "\nx\n", true},
    [ESCAPE_INLINE] = {"x ", "\nx\n", true},
    [ESCAPE_SECTION] = {"", "# x\n", false},
    [ESCAPE_LAST_SECTION] = {"", NULL, false},
};

static void line_init(struct line *l, const char *s, size_t n) {
  memset(l, 0, sizeof *l);
  l->s = s;
  l->n = n;
  while (l->sp < n && l->sp < 3 && s[l->sp] == ' ')
    l->sp++;
  size_t bs = l->sp;
  while (bs < n && s[bs] == '\\')
    bs++;
  l->backslash = bs > l->sp;
  l->heading = structural(s + bs, n - bs);
  l->opens = opener(s + bs, n - bs);
}

/* The lines of text, ending at LF, CR LF or CR; *n gets their count. */
static struct line *split(const char *text, size_t *n) {
  struct line *v = NULL;
  size_t cap = 0;
  *n = 0;
  for (const char *p = text; *p;) {
    size_t len = strcspn(p, "\r\n");
    XGROW(v, cap, *n + 1);
    struct line *l = &v[(*n)++];
    line_init(l, p, len);
    p += len;
    l->ends = *p != '\0';
    p += p[0] == '\r' && p[1] == '\n' ? 2 : l->ends;
  }
  return v;
}

/* Whether line l gets a backslash (delta 1) or loses one (delta -1). */
static bool marked(const struct line *l, bool headings, int delta) {
  if (l->raw || delta == 0)
    return false;
  if (delta > 0)
    return (headings && l->heading) || (l->opens && l->backslash) || l->neutral;
  return l->backslash && ((headings && l->heading) || l->opens);
}

/* Appends the lines to out, each marked one with a backslash more or less
 * after its leading spaces. */
static void emit(const struct line *v, size_t n, enum escape_place place,
                 int delta, struct buf *out) {
  for (size_t i = 0; i < n; i++) {
    const struct line *l = &v[i];
    bool mark = marked(l, places[place].headings, delta);
    size_t skip = mark && delta < 0;
    buf_add(out, l->s, l->sp);
    if (mark && delta > 0)
      buf_addc(out, '\\');
    buf_add(out, l->s + l->sp + skip, l->n - l->sp - skip);
    if (l->ends)
      buf_addc(out, '\n');
  }
}

/*
 * Reads the lines, escaped by delta and placed at place, with cmark, and
 * marks those inside a top-level code or HTML block raw. Returns the first
 * line (from 1) of a block that runs on into what follows the text, or 0.
 */
static size_t find_blocks(struct line *v, size_t n, enum escape_place place,
                          int delta) {
  struct buf doc = BUF_INIT;
  const char *before = places[place].before;
  long offset = 0;
  for (const char *p = before; *p; p++)
    offset += *p == '\n';
  for (size_t i = 0; i < n; i++)
    v[i].raw = false;
  buf_adds(&doc, before);
  emit(v, n, place, delta, &doc);
  if (n && !v[n - 1].ends)
    buf_addc(&doc, '\n');
  if (places[place].after)
    buf_adds(&doc, places[place].after);
  cmark_node *root = cmark_parse_document(doc.ptr, doc.len, CMARK_OPT_DEFAULT);
  size_t runs_on = 0;
  for (cmark_node *b = cmark_node_first_child(root); b;
       b = cmark_node_next(b)) {
    cmark_node_type type = cmark_node_get_type(b);
    if (type != CMARK_NODE_CODE_BLOCK && type != CMARK_NODE_HTML_BLOCK)
      continue;
    long from = cmark_node_get_start_line(b) - offset;
    long to = cmark_node_get_end_line(b) - offset;
    if (to > (long)n && from >= 1 && places[place].after)
      runs_on = (size_t)from;
    for (long l = from < 1 ? 1 : from; l <= to && l <= (long)n; l++)
      v[l - 1].raw = true;
  }
  cmark_node_free(root);
  buf_release(&doc);
  return runs_on;
}

/* Whether a line of v opens a block with no backslash before it. */
static bool any_opener(const struct line *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i].opens && !v[i].backslash)
      return true;
  return false;
}

void escape_text(const char *text, enum escape_place place, struct buf *out) {
  size_t n;
  struct line *v = split(text ? text : "", &n);
  /* Without an opener there are no code or HTML blocks to find (an
   * indented code block has no line that could be escaped). */
  bool find = any_opener(v, n);
  for (int round = 0; find; round++) {
    size_t from = find_blocks(v, n, place, 1);
    if (!from)
      break;
    /* The block opened at line from would swallow what follows: that
     * line opens nothing. From the fourth round on, no later line opens
     * anything either, so that the rounds stay few whatever the text. */
    find = false;
    for (size_t i = from - 1; i < n && (i == from - 1 || round >= 3); i++)
      if (v[i].opens && !v[i].backslash && !v[i].neutral)
        find = v[i].neutral = true;
  }
  emit(v, n, place, 1, out);
  free(v);
}

char *unescape_text(const char *text, enum escape_place place) {
  size_t n;
  struct line *v = split(text ? text : "", &n);
  if (any_opener(v, n))
    find_blocks(v, n, place, 0);
  struct buf out = BUF_INIT;
  emit(v, n, place, -1, &out);
  free(v);
  return buf_detach(&out, NULL);
}

bool escape_own_line(const char *text) {
  struct line l;
  size_t n = strcspn(text, "\r\n");
  line_init(&l, text, n);
  return n == 0 || text[0] == ' ' || text[0] == '\t' || text[n - 1] == ' ' ||
         text[n - 1] == '\t' || (l.opens && !l.backslash);
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

void escape_fenced(const char *text, size_t len, struct buf *out) {
  int run = 0, longest = 0;
  for (size_t i = 0; i < len; i++) {
    run = text[i] == '`' ? run + 1 : 0;
    if (run > longest)
      longest = run;
  }
  int fence = longest < 3 ? 3 : longest + 1;
  for (int i = 0; i < fence; i++)
    buf_addc(out, '`');
  buf_adds(out, "text\n");
  buf_add(out, text, len);
  if (len && text[len - 1] != '\n')
    buf_addc(out, '\n');
  for (int i = 0; i < fence; i++)
    buf_addc(out, '`');
  buf_addc(out, '\n');
}
