/* SPDX-License-Identifier: MIT */
/* parse.c: markdown of a generated file back to a document model. cmark
 * finds the blocks (so a '#' inside a code block is no heading); the
 * values are read from the lines themselves, so that free text can be
 * kept byte for byte. Knows nothing of the store or of FUSE. */
#include "parse.h"
#include "escape.h"
#include "grammar.h"
#include "names.h"
#include "util.h"

#include <cmark.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

/* ---- the text and its lines ---- */

struct parser {
  struct doc *doc;
  const char *t; /* normalised text */
  size_t len;
  size_t *ls; /* ls[i]: offset of line i+1; ls[nlines] == len */
  int nlines;
  int body_line;      /* first line of the body (after the front matter) */
  cmark_node **roots; /* the trees cmark made: one, or one per run */
  size_t nroots, caproots;
  struct block *blocks;
  size_t nblocks, capblocks;
  int *block_at_line; /* line -> index of the block starting there, or -1 */
  /* With a memo: the task blocks it gave and the diagnostics each task
   * block made, by index in doc->tasks. */
  const struct parse_memo *memo;
  struct task_span *spans;
  size_t capspans;
};

/* The diagnostics [d0, d1) a task block made; memo: the entry it was
 * taken from, or -1. */
struct task_span {
  size_t d0, d1;
  long memo;
};

/* A task block of an earlier text: its text, what it parsed to with
 * line 1 at its heading, and the diagnostics it made. */
struct memo_entry {
  uint64_t hash;
  char *text;
  size_t len;
  bool at_eof; /* it ended the text (no heading after it) */
  struct ptask task;
  struct diag *diags;
  size_t ndiags;
};

struct parse_memo {
  struct memo_entry *v;
  size_t n, cap;
  long *slots; /* open addressing by hash: index into v, or -1 */
  size_t nslots;
  struct parse_memo_stats stats;
};

enum btype { B_HEADING, B_PARAGRAPH, B_LIST, B_CODE, B_OTHER };

struct block {
  int type, level;
  int line, end; /* file lines, inclusive */
  int offset;    /* the file line of the node's line 1, less one */
  long memo;     /* a task block the memo gave (no node): its entry; or -1 */
  cmark_node *node;
};

static size_t line_start(const struct parser *p, int line) {
  if (line < 1)
    return 0;
  if (line > p->nlines)
    return p->len;
  return p->ls[line - 1];
}

/* The bytes of a line without its newline. */
static const char *line_at(const struct parser *p, int line, size_t *n) {
  size_t s = line_start(p, line), e = line_start(p, line + 1);
  if (e > s && p->t[e - 1] == '\n')
    e--;
  *n = e - s;
  return p->t + s;
}

static bool line_blank(const struct parser *p, int line) {
  size_t n;
  const char *s = line_at(p, line, &n);
  for (size_t i = 0; i < n; i++)
    if (!isspace((unsigned char)s[i]))
      return false;
  return true;
}

/* Lines [from, to) as one string, without trailing blank lines and
 * without the final newline: leading blank lines are kept. */
static char *lines_after(const struct parser *p, int from, int to) {
  while (to > from && line_blank(p, to - 1))
    to--;
  if (from >= to)
    return xstrdup("");
  size_t s = line_start(p, from), e = line_start(p, to);
  if (e > s && p->t[e - 1] == '\n')
    e--;
  return xstrndup(p->t + s, e - s);
}

/* Lines [from, to) as one string, without leading and trailing blank
 * lines and without the final newline. */
static char *lines_text(const struct parser *p, int from, int to) {
  while (from < to && line_blank(p, from))
    from++;
  return lines_after(p, from, to);
}

static char *trim_dup(const char *s, size_t n) {
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  return xstrndup(s, n);
}

/* Normalises the text into the parser: no BOM, LF line ends. CR LF and a
 * lone CR end a line as LF does (as in CommonMark), so that every line
 * number counts the lines cmark sees. Reports binary data and invalid
 * UTF-8. */
static bool normalise(struct parser *p, const char *text, size_t len) {
  struct doc *d = p->doc;
  if (len > PARSE_MAX_BYTES) {
    diags_add(&d->diags, DIAG_ERROR, 0,
              "the file is %zu bytes; taskfs reads back files of at most "
              "%u MiB",
              len, PARSE_MAX_BYTES >> 20);
    return false;
  }
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  char *out = xmalloc(len + 1);
  size_t n = 0;
  int line = 1;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (c == '\0') {
      diags_add(&d->diags, DIAG_ERROR, line,
                "binary data (a NUL byte): this is not a markdown text file");
      free(out);
      return false;
    }
    if (c == '\r') {
      if (i + 1 < len && text[i + 1] == '\n')
        continue;
      c = '\n';
    }
    if (c == '\n')
      line++;
    out[n++] = c;
  }
  out[n] = '\0';
  if (!utf8_valid(out, n)) {
    /* Find the line of the first bad byte for the message. */
    int bad = 1;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
      if (i == n || out[i] == '\n') {
        if (!utf8_valid(out + start, i - start))
          break;
        bad++;
        start = i + 1;
      }
    }
    diags_add(&d->diags, DIAG_ERROR, bad,
              "invalid UTF-8: save the file as UTF-8 text");
    free(out);
    return false;
  }
  d->text = out;
  d->len = n;
  p->t = out;
  p->len = n;
  size_t cap = 0;
  p->nlines = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || out[i - 1] == '\n') {
      XGROW(p->ls, cap, (size_t)p->nlines + 2);
      p->ls[p->nlines++] = i;
    }
  }
  XGROW(p->ls, cap, (size_t)p->nlines + 1);
  p->ls[p->nlines] = n;
  return true;
}

/* ---- front matter ---- */

static bool line_is(const struct parser *p, int line, const char *what) {
  size_t n;
  const char *s = line_at(p, line, &n);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  return n == strlen(what) && memcmp(s, what, n) == 0;
}

static void fm_set(struct parser *p, const char *key, const char *value,
                   int line) {
  struct doc *d = p->doc;
  if (strcmp(key, "taskfs") == 0) {
    if (strcmp(value, "1") != 0)
      diags_add(&d->diags, DIAG_ERROR, line,
                "taskfs format '%s' is not supported (this taskfs reads "
                "format 1)",
                value);
  } else if (strcmp(key, "session") == 0) {
    str_set(&d->session, value);
  } else if (strcmp(key, "group") == 0) {
    str_set(&d->group, value);
  } else if (strcmp(key, "task") == 0) {
    str_set(&d->task, value);
  } else if (strcmp(key, "notes") == 0) {
    str_set(&d->notes, value);
  } else if (strcmp(key, "revision") == 0) {
    char *end;
    long long r = strtoll(value, &end, 10);
    if (!*value || *end || r < 0)
      diags_add(&d->diags, DIAG_ERROR, line,
                "revision '%s' is not a whole number: keep the revision "
                "line as taskfs wrote it",
                value);
    else
      d->revision = r;
  } else if (strcmp(key, "meta") == 0 || strcmp(key, "error") == 0) {
    diags_add(&d->diags, DIAG_ERROR, line,
              "this text is a generated, read-only file (%s: %s)", key, value);
  } else {
    diags_add(&d->diags, DIAG_WARNING, line,
              "front matter key '%s' is not one of taskfs's and is ignored",
              key);
  }
}

/* A reading position in the front matter text [start, end): at is where
 * line yline (from 0) starts as libyaml counts lines, and line is the
 * file's line there. libyaml also ends lines at U+0085, U+2028 and
 * U+2029; the file's lines end only at LF. */
struct fm_lines {
  size_t start, at, end, yline;
  int line;
};

/* The file line of libyaml's line yline (0-based). Calls in order of
 * yline cost the length of the front matter in all. */
static int fm_line(const struct parser *p, struct fm_lines *c, size_t yline) {
  const unsigned char *u = (const unsigned char *)p->t;
  if (yline < c->yline) {
    c->at = c->start;
    c->yline = 0;
    c->line = 2;
  }
  while (c->yline < yline && c->at < c->end) {
    size_t i = c->at, w = 0;
    if (u[i] == '\n')
      w = 1;
    else if (u[i] == 0xc2 && i + 1 < c->end && u[i + 1] == 0x85)
      w = 2;
    else if (u[i] == 0xe2 && i + 2 < c->end && u[i + 1] == 0x80 &&
             (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
      w = 3;
    c->at += w ? w : 1;
    if (w) {
      c->yline++;
      c->line += w == 1;
    }
  }
  return c->line;
}

/* Reads the front matter between line 1 and the closing line. */
static void parse_front_matter(struct parser *p) {
  struct doc *d = p->doc;
  p->body_line = 1;
  if (p->nlines < 1 || !line_is(p, 1, "---"))
    return;
  int close = 0;
  for (int l = 2; l <= p->nlines; l++)
    if (line_is(p, l, "---") || line_is(p, l, "...")) {
      close = l;
      break;
    }
  if (!close) {
    diags_add(&d->diags, DIAG_ERROR, 1,
              "the front matter opened here is never closed with a '---' "
              "line");
    return;
  }
  d->has_front_matter = true;
  d->fm_end_line = close;
  p->body_line = close + 1;
  size_t s = line_start(p, 2), e = line_start(p, close);

  yaml_parser_t yp;
  yaml_event_t ev;
  if (!yaml_parser_initialize(&yp))
    die("yaml parser: out of memory");
  yaml_parser_set_input_string(&yp, (const unsigned char *)p->t + s, e - s);
  struct fm_lines lines = {s, s, e, 0, 2};
  char *key = NULL;
  int depth = 0;
  size_t open_line[8] = {0}; /* where each open collection started */
  bool done = false;
  while (!done) {
    if (!yaml_parser_parse(&yp, &ev)) {
      /* Inside an unclosed [ or {, the mistake is where it opened;
       * libyaml only notices where it gave up. */
      size_t at = depth > 1 ? open_line[depth - 1 < 8 ? depth - 1 : 7]
                            : yp.problem_mark.line;
      diags_add(&d->diags, DIAG_ERROR, fm_line(p, &lines, at),
                "the front matter is not valid YAML: %s%s%s",
                yp.problem ? yp.problem : "syntax error", yp.context ? " " : "",
                yp.context ? yp.context : "");
      break;
    }
    int line = fm_line(p, &lines, ev.start_mark.line);
    switch (ev.type) {
    case YAML_STREAM_END_EVENT:
      done = true;
      break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      if (depth == 0 && ev.type == YAML_SEQUENCE_START_EVENT)
        diags_add(&d->diags, DIAG_ERROR, line,
                  "the front matter must be 'key: value' lines");
      if (depth == 1 && key) {
        diags_add(&d->diags, DIAG_ERROR, line,
                  "front matter '%s' must have a single value", key);
        free(key);
        key = NULL;
      }
      open_line[depth < 8 ? depth : 7] = ev.start_mark.line;
      depth++;
      break;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
      depth--;
      break;
    case YAML_SCALAR_EVENT: {
      const char *v = (const char *)ev.data.scalar.value;
      if (depth == 0) {
        diags_add(&d->diags, DIAG_ERROR, line,
                  "the front matter must be 'key: value' lines");
      } else if (depth == 1) {
        if (!key) {
          key = xstrdup(v);
        } else {
          fm_set(p, key, v, line);
          free(key);
          key = NULL;
        }
      }
      break;
    }
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  free(key);
  yaml_parser_delete(&yp);
}

/* ---- blocks ---- */

/* Appends the block of cmark's top-level node n, whose line 1 is file line
 * offset + 1. */
static void add_block(struct parser *p, cmark_node *n, int offset) {
  struct block b = {.node = n, .offset = offset, .memo = -1};
  switch (cmark_node_get_type(n)) {
  case CMARK_NODE_HEADING:
    b.type = B_HEADING;
    b.level = cmark_node_get_heading_level(n);
    break;
  case CMARK_NODE_PARAGRAPH:
    b.type = B_PARAGRAPH;
    break;
  case CMARK_NODE_LIST:
    b.type = B_LIST;
    break;
  case CMARK_NODE_CODE_BLOCK:
    b.type = B_CODE;
    break;
  default:
    b.type = B_OTHER;
  }
  b.line = cmark_node_get_start_line(n) + offset;
  b.end = cmark_node_get_end_line(n) + offset;
  if (b.type == B_HEADING) {
    /* A setext heading ends at its underline (cmark can report one
     * line more). */
    size_t ln;
    const char *ls = line_at(p, b.line, &ln);
    size_t i = 0;
    while (i < ln && i < 3 && ls[i] == ' ')
      i++;
    if (i >= ln || ls[i] != '#') {
      for (int l = b.line + 1; l <= b.end; l++) {
        const char *us = line_at(p, l, &ln);
        size_t j = 0;
        while (j < ln && j < 3 && us[j] == ' ')
          j++;
        char c = j < ln ? us[j] : 0;
        size_t k = j;
        while (k < ln && us[k] == c)
          k++;
        while (k < ln && (us[k] == ' ' || us[k] == '\t'))
          k++;
        if ((c == '=' || c == '-') && k == ln) {
          b.end = l;
          break;
        }
      }
    }
  }
  XGROW(p->blocks, p->capblocks, p->nblocks + 1);
  p->blocks[p->nblocks++] = b;
}

static cmark_node *cmark_run(struct parser *p, const char *s, size_t n) {
  cmark_node *root = cmark_parse_document(s, n, CMARK_OPT_SOURCEPOS);
  XGROW(p->roots, p->caproots, p->nroots + 1);
  p->roots[p->nroots++] = root;
  return root;
}

static void index_blocks(struct parser *p) {
  p->block_at_line = xmalloc(((size_t)p->nlines + 2) * sizeof(int));
  for (int l = 0; l <= p->nlines + 1; l++)
    p->block_at_line[l] = -1;
  for (size_t i = 0; i < p->nblocks; i++)
    if (p->blocks[i].line >= 0 && p->blocks[i].line <= p->nlines + 1)
      p->block_at_line[p->blocks[i].line] = (int)i;
}

static void collect_blocks(struct parser *p) {
  size_t s = line_start(p, p->body_line);
  cmark_node *root = cmark_run(p, p->t + s, p->len - s);
  for (cmark_node *n = cmark_node_first_child(root); n; n = cmark_node_next(n))
    add_block(p, n, p->body_line - 1);
  index_blocks(p);
}

/* The text of a heading block, without its marks. */
static char *heading_text(const struct parser *p, const struct block *b) {
  size_t n;
  const char *s = line_at(p, b->line, &n);
  size_t i = 0;
  while (i < n && i < 3 && s[i] == ' ')
    i++;
  if (i < n && s[i] == '#') {
    while (i < n && s[i] == '#')
      i++;
    size_t e = n;
    while (e > i && isspace((unsigned char)s[e - 1]))
      e--;
    /* A closing run of '#' after a space belongs to the markup. */
    size_t h = e;
    while (h > i && s[h - 1] == '#')
      h--;
    if (h < e && (h == i || s[h - 1] == ' ' || s[h - 1] == '\t'))
      e = h;
    char *text = trim_dup(s + i, e - i);
    heading_unescape(text);
    return text;
  }
  /* Setext: the lines above the underline. */
  struct buf out = BUF_INIT;
  for (int l = b->line; l < b->end; l++) {
    const char *ls = line_at(p, l, &n);
    if (out.len)
      buf_addc(&out, ' ');
    char *t = trim_dup(ls, n);
    buf_adds(&out, t);
    free(t);
  }
  return buf_detach(&out, NULL);
}

/* Splits "Title `id`" into title and id (NULL when there is none). */
static void split_title_id(const char *text, char **title, char **id) {
  size_t n = strlen(text);
  *id = NULL;
  if (n >= 3 && text[n - 1] == '`') {
    const char *open = NULL;
    for (size_t i = n - 1; i-- > 0;)
      if (text[i] == '`') {
        open = text + i;
        break;
      }
    if (open && open + 1 < text + n - 1 && (open == text || open[-1] != '`')) {
      char *inner = trim_dup(open + 1, (size_t)(text + n - 1 - open - 1));
      if (*inner && !strchr(inner, ' ')) {
        *id = inner;
        *title = trim_dup(text, (size_t)(open - text));
        return;
      }
      free(inner);
    }
  }
  *title = xstrdup(text);
}

/* ---- fields ---- */

struct field {
  int checkbox;
  char key[64];
  char *value;
};

/*
 * Reads "- **Key**: value", "- **Key:** value", "- Key: value", with an
 * optional "[ ]" or "[x]" after the bullet. false for other lines.
 */
static bool read_field(const char *s, size_t n, struct field *f) {
  size_t i = 0;
  f->checkbox = -1;
  f->value = NULL;
  while (i < n && i < 3 && s[i] == ' ')
    i++;
  if (i >= n || !strchr("-*+", s[i]))
    return false;
  i++;
  if (i >= n || (s[i] != ' ' && s[i] != '\t'))
    return false;
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  if (i + 2 < n && s[i] == '[' && s[i + 2] == ']' &&
      (s[i + 1] == ' ' || s[i + 1] == 'x' || s[i + 1] == 'X')) {
    f->checkbox = s[i + 1] != ' ';
    i += 3;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
      i++;
  }
  char raw[64];
  size_t k = 0;
  if (i + 1 < n && s[i] == '*' && s[i + 1] == '*') {
    i += 2;
    const char *close = NULL;
    for (size_t j = i; j + 1 < n; j++)
      if (s[j] == '*' && s[j + 1] == '*') {
        close = s + j;
        break;
      }
    if (!close || (size_t)(close - (s + i)) >= sizeof raw)
      return false;
    k = (size_t)(close - (s + i));
    memcpy(raw, s + i, k);
    raw[k] = '\0';
    i = (size_t)(close - s) + 2;
    bool colon = k && raw[k - 1] == ':';
    if (colon)
      raw[--k] = '\0';
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
      i++;
    if (i < n && s[i] == ':') {
      colon = true;
      i++;
    }
    if (!colon)
      return false;
  } else {
    size_t j = i;
    while (j < n && s[j] != ':' && j - i < sizeof raw - 1)
      j++;
    if (j >= n || s[j] != ':')
      return false;
    k = j - i;
    memcpy(raw, s + i, k);
    raw[k] = '\0';
    i = j + 1;
  }
  words_normalize(raw, f->key, sizeof f->key);
  if (!*f->key)
    return false;
  f->value = trim_dup(s + i, n - i);
  return true;
}

/* "`a`, `b`" or "a, b" into ids. */
static void read_id_list(const char *v, struct strlist *out) {
  strlist_clear(out);
  const char *p = v;
  while (*p) {
    while (*p == ' ' || *p == ',' || *p == '\t' || *p == ';')
      p++;
    if (!*p)
      break;
    const char *s = p;
    while (*p && *p != ',' && *p != ';')
      p++;
    char *item = trim_dup(s, (size_t)(p - s));
    size_t n = strlen(item);
    if (n >= 2 && item[0] == '`' && item[n - 1] == '`') {
      char *inner = trim_dup(item + 1, n - 2);
      free(item);
      item = inner;
    }
    bool dash = strcmp(item, "-") == 0 || strcmp(item, "\xe2\x80\x94") == 0 ||
                strcmp(item, "none") == 0;
    if (*item && !dash)
      strlist_add(out, item);
    free(item);
  }
}

/* ---- task blocks ---- */

static const struct block *block_at(const struct parser *p, int line) {
  if (line < 0 || line > p->nlines + 1 || !p->block_at_line)
    return NULL;
  int i = p->block_at_line[line];
  return i < 0 ? NULL : &p->blocks[i];
}

/* A paragraph starting at line with a bold label like "**Deliverables**:";
 * *rest gets the text after the label on that line. */
static bool label_at(const struct parser *p, int line, int label, char **rest) {
  const struct block *b = block_at(p, line);
  if (!b || b->type != B_PARAGRAPH)
    return false;
  size_t n;
  const char *s = line_at(p, line, &n);
  if (n < 4 || s[0] != '*' || s[1] != '*')
    return false;
  const char *close = NULL;
  for (size_t j = 2; j + 1 < n; j++)
    if (s[j] == '*' && s[j + 1] == '*') {
      close = s + j;
      break;
    }
  if (!close)
    return false;
  char raw[64], word[64];
  size_t k = (size_t)(close - s - 2);
  if (k >= sizeof raw)
    return false;
  memcpy(raw, s + 2, k);
  raw[k] = '\0';
  bool colon = k && raw[k - 1] == ':';
  words_normalize(raw, word, sizeof word);
  if (!label_is(word, label))
    return false;
  size_t i = (size_t)(close - s) + 2;
  while (i < n && s[i] == ' ')
    i++;
  if (i < n && s[i] == ':') {
    colon = true;
    i++;
  }
  if (!colon)
    return false;
  *rest = trim_dup(s + i, n - i);
  return true;
}

/* The items of the list block starting at line, verbatim, markers and
 * continuation indentation removed. */
static void read_list_items(const struct parser *p, const struct block *b,
                            struct strlist *out) {
  for (cmark_node *it = cmark_node_first_child(b->node); it;
       it = cmark_node_next(it)) {
    int offset = b->offset;
    int from = cmark_node_get_start_line(it) + offset;
    int to = cmark_node_get_end_line(it) + offset;
    struct buf item = BUF_INIT;
    size_t indent = 0;
    for (int l = from; l <= to; l++) {
      size_t n;
      const char *s = line_at(p, l, &n);
      if (l == from) {
        size_t i = 0;
        while (i < n && s[i] == ' ')
          i++;
        if (i < n && strchr("-*+", s[i])) {
          i++;
        } else {
          while (i < n && isdigit((unsigned char)s[i]))
            i++;
          if (i < n && (s[i] == '.' || s[i] == ')'))
            i++;
        }
        while (i < n && s[i] == ' ')
          i++;
        indent = i;
        buf_add(&item, s + i, n - i);
      } else {
        size_t i = 0;
        while (i < n && i < indent && s[i] == ' ')
          i++;
        buf_addc(&item, '\n');
        buf_add(&item, s + i, n - i);
      }
    }
    while (item.len &&
           (item.ptr[item.len - 1] == '\n' || item.ptr[item.len - 1] == ' '))
      buf_truncate(&item, item.len - 1);
    strlist_add(out, item.ptr);
    buf_release(&item);
  }
}

/* An effort field's value into *hours, with *has set; a diagnostic and
 * nothing set when it is no duration. */
static void read_effort(struct diags *dg, const struct field *f, int line,
                        bool *has, double *hours) {
  double h;
  if (!effort_parse(f->value, &h)) {
    diags_add(dg, DIAG_ERROR, line,
              "effort '%s' is not a duration like 4h, 1.5h or 90m (at "
              "most 1000000h)",
              f->value);
    return;
  }
  *has = true;
  *hours = h;
}

/* The id of a "Task ID" field, in backticks or not; NULL when empty. */
static char *read_id(const char *value) {
  char *v = trim_dup(value, strlen(value));
  size_t n = strlen(v);
  if (n >= 2 && v[0] == '`' && v[n - 1] == '`') {
    char *inner = trim_dup(v + 1, n - 2);
    free(v);
    v = inner;
  }
  if (!*v) {
    free(v);
    return NULL;
  }
  return v;
}

/* Applies one field line of a task block. */
static void task_field(struct parser *p, struct ptask *t, const struct field *f,
                       int line) {
  struct diags *dg = &p->doc->diags;
  switch (label_field(f->key, p->doc->kind)) {
  case LABEL_STATUS: {
    t->checkbox = f->checkbox;
    int s = status_parse(f->value);
    if (s < 0 && *f->value)
      diags_add(dg, DIAG_ERROR, line,
                "status '%s' is not one of planned, active, blocked, "
                "completed",
                f->value);
    t->status = s;
    t->status_line = line;
    break;
  }
  case LABEL_PROGRESS: {
    int v, rc = progress_parse(f->value, &v);
    if (rc == -1)
      diags_add(dg, DIAG_ERROR, line,
                "progress '%s' is not a whole number of percent (like 60%%)",
                f->value);
    else if (rc == -2)
      diags_add(dg, DIAG_ERROR, line, "progress '%s' is outside 0-100%%",
                f->value);
    else
      t->progress = v;
    t->progress_line = line;
    break;
  }
  case LABEL_PRIORITY:
    t->priority = priority_parse(f->value);
    if (t->priority < 0)
      diags_add(dg, DIAG_ERROR, line,
                "priority '%s' is not one of low, medium, high, critical",
                f->value);
    break;
  case LABEL_SPECIALIST:
    t->has_specialist = true;
    str_set(&t->specialist, f->value);
    break;
  case LABEL_ESTIMATE:
    read_effort(dg, f, line, &t->has_estimate, &t->estimate);
    break;
  case LABEL_ACTUAL:
    read_effort(dg, f, line, &t->has_actual, &t->actual);
    break;
  case LABEL_DEPENDS:
    t->has_deps = true;
    read_id_list(f->value, &t->dependencies);
    break;
  case LABEL_GROUP:
    str_set(&t->group_name, f->value);
    t->group_line = line;
    break;
  case LABEL_ID:
    if (!t->id)
      t->id = read_id(f->value);
    break;
  case LABEL_STARTED:
    /* Shown as the database keeps it; a save does not set it. */
    str_set(&t->started, f->value);
    break;
  case LABEL_COMPLETED:
    str_set(&t->completed, f->value);
    break;
  default:
    /* Created, updated: kept by the database. */
    break;
  }
}

/*
 * Reads the list of fields that starts at line from (after blank lines):
 * list items with known keys, one after the other, up to to. A blank line
 * ends them (what follows is free text, even when its first line looks
 * like a field), as does a line that is no known field. Gives each to
 * take; returns the line after the list.
 */
static int read_fields(struct parser *p, int from, int to,
                       void (*take)(struct parser *, void *,
                                    const struct field *, int),
                       void *arg) {
  int l = from;
  for (bool first = true;; first = false) {
    int k = l;
    while (first && k < to && line_blank(p, k))
      k++;
    if (k >= to)
      break;
    size_t n;
    const char *s = line_at(p, k, &n);
    struct field f;
    if (!read_field(s, n, &f))
      break;
    bool known = label_field(f.key, p->doc->kind) != LABEL_NONE;
    if (known)
      take(p, arg, &f, k);
    free(f.value);
    if (!known)
      break;
    l = k + 1;
  }
  return l;
}

static void task_field_v(struct parser *p, void *t, const struct field *f,
                         int line) {
  task_field(p, t, f, line);
}

/*
 * Parses the lines (from, to) of a task block after its heading: fields,
 * description, deliverables, current status. sections_from receives the
 * first line of a heading that ends the block body (or to).
 */
static void parse_task_body(struct parser *p, struct ptask *t, int from,
                            int to) {
  int l = read_fields(p, from, to, task_field_v, t);
  /* The rest: description, then labelled parts. */
  int desc_end = to, deliv = -1, current = -1;
  char *deliv_rest = NULL, *current_rest = NULL;
  for (int k = l; k < to; k++) {
    char *rest = NULL;
    if (deliv < 0 && label_at(p, k, LABEL_DELIVERABLES, &rest)) {
      deliv = k;
      deliv_rest = rest;
    } else if (current < 0 && label_at(p, k, LABEL_CURRENT, &rest)) {
      current = k;
      current_rest = rest;
    } else {
      free(rest);
      continue;
    }
    if (desc_end == to)
      desc_end = k;
  }
  struct buf desc = BUF_INIT;
  char *d0 = lines_text(p, l, desc_end);
  buf_adds(&desc, d0);
  free(d0);
  if (deliv >= 0) {
    int end = current > deliv ? current : to;
    if (*deliv_rest)
      strlist_add(&t->deliverables, deliv_rest);
    int k = deliv + 1;
    while (k < end && line_blank(p, k))
      k++;
    const struct block *b = block_at(p, k);
    if (b && b->type == B_LIST) {
      read_list_items(p, b, &t->deliverables);
      k = b->end + 1;
    }
    char *extra = lines_text(p, k, end);
    if (*extra) {
      diags_add(&p->doc->diags, DIAG_WARNING, k,
                "text after the deliverables list is kept with the "
                "description");
      if (desc.len)
        buf_adds(&desc, "\n\n");
      buf_adds(&desc, extra);
    }
    free(extra);
  }
  if (current >= 0) {
    int end = deliv > current ? deliv : to;
    struct buf cs = BUF_INIT;
    buf_adds(&cs, current_rest);
    /* After text on the label's line, the next lines continue it, blank
     * ones included; else the text starts after the blank line below. */
    char *more = *current_rest ? lines_after(p, current + 1, end)
                               : lines_text(p, current + 1, end);
    if (*more) {
      if (cs.len)
        buf_addc(&cs, '\n');
      buf_adds(&cs, more);
    }
    free(more);
    /* Text on the label's line continues it; else it starts below. */
    t->current_status =
        unescape_text(cs.ptr, *current_rest ? ESCAPE_INLINE : ESCAPE_BLOCKS);
    buf_release(&cs);
  }
  free(deliv_rest);
  free(current_rest);
  char *raw = buf_detach(&desc, NULL);
  t->description = unescape_text(raw, ESCAPE_AFTER_LIST);
  free(raw);
  if (!t->current_status)
    t->current_status = xstrdup("");
}

/* ---- documents ---- */

static void add_generated(struct parser *p, const char *name, int line,
                          int to_line) {
  struct doc *d = p->doc;
  d->generated =
      xrealloc(d->generated, (d->ngenerated + 1) * sizeof *d->generated);
  d->generated[d->ngenerated++] = (struct pgenerated){
      xstrdup(name), line, line_start(p, line), line_start(p, to_line)};
}

static struct psection make_section(struct parser *p, int line, int to) {
  size_t n;
  const char *s = line_at(p, line, &n);
  struct psection x = {0};
  x.heading = xstrndup(s, n);
  struct buf key = BUF_INIT;
  section_key(x.heading, &key);
  x.key = buf_detach(&key, NULL);
  size_t bs = line_start(p, line + 1), be = line_start(p, to);
  char *raw = xstrndup(p->t + bs, be - bs);
  x.body = unescape_text(raw, ESCAPE_SECTION);
  free(raw);
  x.line = line;
  return x;
}

static void add_section(struct parser *p, struct psection **v, size_t *n,
                        struct psection x) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*v)[i].key, x.key) == 0) {
      diags_add(&p->doc->diags, DIAG_ERROR, x.line,
                "a second section '%s' (the first is at line %d): give "
                "each section its own heading",
                x.heading, (*v)[i].line);
      psection_release(&x);
      return;
    }
  doc_add_section(v, n, x);
}

/* A header field line that taskfs computes: kept to tell an edit. */
static void generated_field(struct parser *p, const struct field *f, int line) {
  char name[80];
  snprintf(name, sizeof name, "field:%s", f->key);
  add_generated(p, name, line, line + 1);
}

/* Header fields of session and group files. */
static void header_field(struct parser *p, const struct field *f, int line) {
  struct doc *d = p->doc;
  int key = label_field(f->key, d->kind);
  switch (key) {
  case LABEL_STATUS:
    if (d->kind == DOC_SESSION) {
      char w[64];
      words_normalize(f->value, w, sizeof w);
      str_set(&d->status_word, w);
      if (!session_status_valid(w))
        diags_add(&d->diags, DIAG_ERROR, line,
                  "session status '%s' is not one of active, paused, "
                  "completed, archived",
                  f->value);
    } else {
      d->status = status_parse(f->value);
      if (d->status < 0)
        diags_add(&d->diags, DIAG_ERROR, line,
                  "status '%s' is not one of planned, active, blocked, "
                  "completed",
                  f->value);
    }
    break;
  case LABEL_PRIORITY:
    d->priority = priority_parse(f->value);
    if (d->priority < 0)
      diags_add(&d->diags, DIAG_ERROR, line,
                "priority '%s' is not one of low, medium, high, critical",
                f->value);
    break;
  case LABEL_SPECIALIST:
    d->has_specialist = true;
    str_set(&d->specialist, f->value);
    break;
  case LABEL_MODE:
    d->has_mode = true;
    str_set(&d->mode, f->value);
    break;
  case LABEL_CREATED:
    /* Shown as the database keeps it, and generated all the same. */
    str_set(&d->created, f->value);
    generated_field(p, f, line);
    break;
  case LABEL_PROGRESS:
  case LABEL_UPDATED:
    generated_field(p, f, line);
    break;
  default:
    break;
  }
}

/* Title, fields and description of a session or group file: from the
 * title line to the first section. */
static void header_field_v(struct parser *p, void *arg, const struct field *f,
                           int line) {
  (void)arg;
  header_field(p, f, line);
}

static void parse_header(struct parser *p, const struct block *h1, int to) {
  struct doc *d = p->doc;
  /* The whole heading: a session or group title carries no id, so a
   * title that ends in a code span keeps it. */
  d->title = heading_text(p, h1);
  d->title_line = h1->line;
  int l = read_fields(p, h1->end + 1, to, header_field_v, NULL);
  char *raw = lines_text(p, l, to);
  d->description = unescape_text(raw, ESCAPE_AFTER_LIST);
  free(raw);
}

/* Section headings that taskfs writes, by file kind. */
enum sect { S_USER, S_METRICS, S_OVERVIEW, S_GENERATED, S_STATUS };

static int classify(const struct parser *p, const char *text, int *status) {
  char w[128];
  words_normalize(text, w, sizeof w);
  int kind = p->doc->kind;
  switch (heading_parse(w, kind)) {
  case HEADING_METRICS:
    return S_METRICS;
  case HEADING_OVERVIEW:
    return S_OVERVIEW;
  case HEADING_NONE:
    break;
  default:
    return S_GENERATED;
  }
  if (kind == DOC_GROUP) {
    size_t n = strlen(w), k = strlen(" " STATUS_SECTION_SUFFIX);
    if (n > k && strcmp(w + n - k, " " STATUS_SECTION_SUFFIX) == 0)
      w[n - k] = '\0';
    int s = status_parse(w);
    if (s >= 0) {
      *status = s;
      return S_STATUS;
    }
  }
  return S_USER;
}

/* Splits a table line into trimmed cells ('\|' is a literal bar). */
static void table_cells(const char *s, size_t n, struct strlist *out) {
  strlist_clear(out);
  size_t i = 0;
  while (i < n && s[i] == ' ')
    i++;
  if (i < n && s[i] == '|')
    i++;
  struct buf cell = BUF_INIT;
  for (; i <= n; i++) {
    if (i == n || s[i] == '|') {
      if (i == n) {
        char *t = trim_dup(cell.ptr, cell.len);
        if (*t)
          strlist_add(out, t);
        free(t);
        break;
      }
      char *t = trim_dup(cell.ptr, cell.len);
      strlist_add(out, t);
      free(t);
      buf_truncate(&cell, 0);
    } else if (s[i] == '\\' && i + 1 < n && s[i + 1] == '|') {
      buf_addc(&cell, '|');
      i++;
    } else {
      buf_addc(&cell, s[i]);
    }
  }
  buf_release(&cell);
}

struct row {
  char *id, *title;
  int status, progress, line;
};

/* Rows of the overview table: id, title, status and progress cells. */
static void parse_overview(struct parser *p, int from, int to,
                           struct row **rows, size_t *nrows) {
  struct strlist cells = {0};
  int col_id = -1, col_title = -1, col_status = -1, col_progress = -1;
  bool header = false;
  for (int l = from; l < to; l++) {
    size_t n;
    const char *s = line_at(p, l, &n);
    size_t i = 0;
    while (i < n && s[i] == ' ')
      i++;
    if (i >= n || s[i] != '|')
      continue;
    table_cells(s, n, &cells);
    if (!header) {
      for (size_t c = 0; c < cells.n; c++) {
        char w[64];
        words_normalize(cells.v[c], w, sizeof w);
        if (strcmp(w, "task") == 0 || strcmp(w, "id") == 0)
          col_id = (int)c;
        else if (strcmp(w, "title") == 0)
          col_title = (int)c;
        else if (strcmp(w, "status") == 0)
          col_status = (int)c;
        else if (strcmp(w, "progress") == 0)
          col_progress = (int)c;
      }
      header = true;
      continue;
    }
    if (cells.n && strspn(cells.v[0], ":- ") == strlen(cells.v[0]))
      continue; /* the |---| line */
    if (col_id < 0 || (size_t)col_id >= cells.n)
      continue;
    struct row r = {.status = -1, .progress = -1, .line = l};
    char *id = cells.v[col_id];
    size_t len = strlen(id);
    if (len >= 2 && id[0] == '`' && id[len - 1] == '`')
      r.id = trim_dup(id + 1, len - 2);
    else
      r.id = xstrdup(id);
    if (col_title >= 0 && (size_t)col_title < cells.n)
      r.title = xstrdup(cells.v[col_title]);
    if (col_status >= 0 && (size_t)col_status < cells.n) {
      r.status = status_parse(cells.v[col_status]);
      if (r.status < 0)
        diags_add(&p->doc->diags, DIAG_ERROR, l,
                  "status '%s' is not one of planned, active, blocked, "
                  "completed",
                  cells.v[col_status]);
    }
    if (col_progress >= 0 && (size_t)col_progress < cells.n) {
      int v, rc = progress_parse(cells.v[col_progress], &v);
      if (rc == -1)
        diags_add(&p->doc->diags, DIAG_ERROR, l,
                  "progress '%s' is not a whole number of percent",
                  cells.v[col_progress]);
      else if (rc == -2)
        diags_add(&p->doc->diags, DIAG_ERROR, l,
                  "progress '%s' is outside 0-100%%", cells.v[col_progress]);
      else
        r.progress = v;
    }
    *rows = xrealloc(*rows, (*nrows + 1) * sizeof **rows);
    (*rows)[(*nrows)++] = r;
  }
  strlist_clear(&cells);
}

/* The task block the memo gave for heading h, as a new ptask with its
 * lines and diagnostics where h puts them. */
static struct ptask *memo_task(struct parser *p, const struct block *h) {
  const struct memo_entry *e = &p->memo->v[h->memo];
  struct ptask *t = doc_add_task(p->doc);
  ptask_copy(t, &e->task);
  ptask_shift(t, h->line - 1);
  for (size_t i = 0; i < e->ndiags; i++)
    diags_add(&p->doc->diags, e->diags[i].level, e->diags[i].line + h->line - 1,
              "%s", e->diags[i].msg);
  return t;
}

/* Reads a task heading block into a new ptask. */
static struct ptask *task_heading(struct parser *p, const struct block *h) {
  struct ptask *t = doc_add_task(p->doc);
  char *text = heading_text(p, h);
  split_title_id(text, &t->title, &t->id);
  free(text);
  t->line = h->line;
  if (!*t->title)
    diags_add(&p->doc->diags, DIAG_ERROR, h->line,
              "a task heading needs a title");
  return t;
}

/* A task block with an id, and its index in doc->tasks. */
struct task_ref {
  const char *id;
  size_t index;
};

/* By id, then by position in the file. */
static int cmp_task_ref(const void *x, const void *y) {
  const struct task_ref *a = x, *b = y;
  int c = strcmp(a->id, b->id);
  return c ? c : (a->index < b->index ? -1 : 1);
}

/* The task blocks of d that have ids, sorted by cmp_task_ref; *n gets
 * their number. The caller frees the array. */
static struct task_ref *tasks_by_id(const struct doc *d, size_t *n) {
  struct task_ref *v = xmalloc((d->ntasks + 1) * sizeof *v);
  *n = 0;
  for (size_t i = 0; i < d->ntasks; i++)
    if (d->tasks[i].id)
      v[(*n)++] = (struct task_ref){d->tasks[i].id, i};
  xsort(v, *n, sizeof *v, cmp_task_ref);
  return v;
}

/* The task blocks of a status section: blocks [from, to) of the parser,
 * the section ending before line end. */
static void parse_status_section(struct parser *p, size_t from, size_t to,
                                 int end, int status, const char *heading) {
  struct ptask *t = NULL;
  for (size_t m = from; m < to; m++) {
    const struct block *tb = &p->blocks[m];
    if (tb->type == B_HEADING && tb->level == 3) {
      size_t q = m + 1;
      while (q < to &&
             !(p->blocks[q].type == B_HEADING && p->blocks[q].level <= 3))
        q++;
      int tend = q < to ? p->blocks[q].line : end;
      size_t d0 = p->doc->diags.n;
      if (tb->memo >= 0) {
        t = memo_task(p, tb);
      } else {
        t = task_heading(p, tb);
        t->end_line = tend - 1;
        parse_task_body(p, t, tb->end + 1, tend);
      }
      t->section_status = status;
      if (p->memo) {
        size_t i = p->doc->ntasks - 1;
        XGROW(p->spans, p->capspans, i + 1);
        p->spans[i] = (struct task_span){d0, p->doc->diags.n, tb->memo};
      }
    } else if (!t) {
      diags_add(&p->doc->diags, DIAG_WARNING, tb->line,
                "text in section '%s' before its first task is not "
                "kept: put notes under a section of your own",
                heading);
    }
  }
}

/* Table rows give the tasks of the same ids more signals. Frees the rows'
 * strings. */
static void apply_overview(struct doc *d, struct row *rows, size_t nrows) {
  size_t nid;
  struct task_ref *byid = tasks_by_id(d, &nid);
  for (size_t r = 0; r < nrows; r++) {
    struct ptask *t = NULL;
    size_t lo = 0, hi = nid;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (strcmp(byid[mid].id, rows[r].id) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < nid && strcmp(byid[lo].id, rows[r].id) == 0)
      t = &d->tasks[byid[lo].index];
    if (!t) {
      diags_add(&d->diags, DIAG_WARNING, rows[r].line,
                "the overview row for '%s' has no task block in this file "
                "and is ignored",
                rows[r].id);
    } else if (t->table_line) {
      diags_add(&d->diags, DIAG_ERROR, rows[r].line,
                "task '%s' has a second row in the overview (the first is "
                "at line %d): remove one row",
                rows[r].id, t->table_line);
    } else {
      t->table_status = rows[r].status;
      t->table_progress = rows[r].progress;
      t->table_line = rows[r].line;
      t->table_title = rows[r].title;
      rows[r].title = NULL;
    }
    free(rows[r].id);
    free(rows[r].title);
  }
  free(byid);
}

static void parse_group(struct parser *p) {
  struct doc *d = p->doc;
  const struct block *h1 = NULL;
  size_t i = 0;
  for (; i < p->nblocks; i++)
    if (p->blocks[i].type == B_HEADING) {
      if (p->blocks[i].level == 1)
        h1 = &p->blocks[i++];
      break;
    }
  if (!h1)
    i = 0;
  /* Section starts: headings of level 1 or 2 after the title. */
  int first = p->nlines + 1;
  for (size_t j = i; j < p->nblocks; j++)
    if (p->blocks[j].type == B_HEADING && p->blocks[j].level <= 2) {
      first = p->blocks[j].line;
      break;
    }
  if (h1)
    parse_header(p, h1, first);
  else
    diags_add(&d->diags, DIAG_ERROR, p->body_line,
              "a group file starts with its title line (# Title); without "
              "it nothing is applied (to delete the group, delete the "
              "file)");
  struct row *rows = NULL;
  size_t nrows = 0;
  for (size_t j = i; j < p->nblocks; j++) {
    const struct block *b = &p->blocks[j];
    if (b->type != B_HEADING || b->level > 2)
      continue;
    size_t k = j + 1;
    while (k < p->nblocks &&
           !(p->blocks[k].type == B_HEADING && p->blocks[k].level <= 2))
      k++;
    int to = k < p->nblocks ? p->blocks[k].line : p->nlines + 1;
    char *text = heading_text(p, b);
    int status = -1;
    int cls = classify(p, text, &status);
    free(text);
    size_t hn;
    const char *hs = line_at(p, b->line, &hn);
    char *hline = xstrndup(hs, hn);
    if (cls == S_STATUS) {
      parse_status_section(p, j + 1, k, to, status, hline);
    } else if (cls == S_OVERVIEW) {
      /* Its cells are signals of the tasks, read with their blocks. */
      parse_overview(p, b->line + 1, to, &rows, &nrows);
    } else if (cls == S_METRICS) {
      add_generated(p, hline, b->line, to);
    } else {
      add_section(p, &d->sections, &d->nsections, make_section(p, b->line, to));
    }
    free(hline);
    j = k - 1;
  }
  apply_overview(d, rows, nrows);
  free(rows);
}

static void parse_task_file(struct parser *p) {
  struct doc *d = p->doc;
  size_t i = 0;
  while (i < p->nblocks && p->blocks[i].type != B_HEADING)
    i++;
  if (i == p->nblocks || p->blocks[i].level != 1) {
    diags_add(&d->diags, DIAG_ERROR, i < p->nblocks ? p->blocks[i].line : 1,
              "a task file starts with its title line: # Title `id`");
    return;
  }
  const struct block *h1 = &p->blocks[i];
  /* The task's own sections start at the first heading of level 2 or 3;
   * after that each level-2 heading starts another. */
  size_t j = i + 1;
  while (j < p->nblocks &&
         !(p->blocks[j].type == B_HEADING && p->blocks[j].level <= 3))
    j++;
  int body_end = j < p->nblocks ? p->blocks[j].line : p->nlines + 1;
  struct ptask *t = task_heading(p, h1);
  t->end_line = body_end - 1;
  parse_task_body(p, t, h1->end + 1, body_end);
  while (j < p->nblocks) {
    size_t k = j + 1;
    while (k < p->nblocks &&
           !(p->blocks[k].type == B_HEADING && p->blocks[k].level <= 2))
      k++;
    int to = k < p->nblocks ? p->blocks[k].line : p->nlines + 1;
    add_section(p, &t->sections, &t->nsections,
                make_section(p, p->blocks[j].line, to));
    j = k;
  }
}

static void parse_session(struct parser *p) {
  struct doc *d = p->doc;
  size_t i = 0;
  while (i < p->nblocks && p->blocks[i].type != B_HEADING)
    i++;
  const struct block *h1 = NULL;
  if (i < p->nblocks && p->blocks[i].level == 1)
    h1 = &p->blocks[i++];
  int first = p->nlines + 1;
  for (size_t j = i; j < p->nblocks; j++)
    if (p->blocks[j].type == B_HEADING && p->blocks[j].level <= 2) {
      first = p->blocks[j].line;
      break;
    }
  if (h1)
    parse_header(p, h1, first);
  else
    diags_add(&d->diags, DIAG_ERROR, p->body_line,
              "session.md starts with its title line (# Title); without it "
              "nothing is applied");
  for (size_t j = i; j < p->nblocks; j++) {
    const struct block *b = &p->blocks[j];
    if (b->type != B_HEADING || b->level > 2)
      continue;
    size_t k = j + 1;
    while (k < p->nblocks &&
           !(p->blocks[k].type == B_HEADING && p->blocks[k].level <= 2))
      k++;
    int to = k < p->nblocks ? p->blocks[k].line : p->nlines + 1;
    char *text = heading_text(p, b);
    int status;
    int cls = classify(p, text, &status);
    free(text);
    if (cls == S_USER) {
      add_section(p, &d->sections, &d->nsections, make_section(p, b->line, to));
    } else {
      size_t hn;
      const char *hs = line_at(p, b->line, &hn);
      char *hline = xstrndup(hs, hn);
      add_generated(p, hline, b->line, to);
      free(hline);
    }
    j = k - 1;
  }
}

static void parse_notes(struct parser *p) {
  struct doc *d = p->doc;
  int l = p->body_line;
  while (l <= p->nlines && line_blank(p, l))
    l++;
  const struct block *b = block_at(p, l);
  size_t from;
  if (b && b->type == B_HEADING && b->level == 1) {
    from = line_start(p, b->end + 1);
    add_generated(p, "title", b->line, b->end + 1);
  } else {
    from = line_start(p, p->body_line);
  }
  d->notes_body = xstrndup(p->t + from, p->len - from);
}

/* ---- the memo: task blocks of an earlier text ---- */

/*
 * CommonMark starts afresh after a top-level ATX heading: when a line is
 * one, the blocks after it do not depend on what came before, and the
 * blocks before it were all closed by it. So a text splits into segments
 * at its lines that start with one to three '#' and a space (the headings
 * of sections and task blocks), and a segment parses the same on its own,
 * followed by a heading, as within the text, provided that the lines
 * that split really are headings there: no open fence or HTML block
 * swallowed one. Runs of segments are given to cmark together with a
 * heading line after them, and every split line must come back as the
 * heading it looks like, or the whole text is parsed at once. A task
 * block is a pure function of its segment's text, so a task block whose
 * text the memo holds is taken from it.
 */

/* The level of a heading line that splits segments: one to three '#' at
 * the start of the line, then a space, a tab or the end; else 0. */
static int split_level(const struct parser *p, int line) {
  size_t n;
  const char *s = line_at(p, line, &n);
  size_t k = 0;
  while (k < n && k < 4 && s[k] == '#')
    k++;
  if (k < 1 || k > 3 || (k < n && s[k] != ' ' && s[k] != '\t'))
    return 0;
  return (int)k;
}

/* Eight bytes at a step: the whole text of every task block is hashed at
 * each save, and a byte at a time showed in profiles. Equality is always
 * checked on the bytes. */
static uint64_t text_hash(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32;
  }
  for (; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

static long memo_find(const struct parse_memo *m, uint64_t h, const char *s,
                      size_t n, bool at_eof) {
  if (!m->nslots)
    return -1;
  for (size_t i = h & (m->nslots - 1);; i = (i + 1) & (m->nslots - 1)) {
    long k = m->slots[i];
    if (k < 0)
      return -1;
    const struct memo_entry *e = &m->v[k];
    if (e->hash == h && e->len == n && e->at_eof == at_eof &&
        memcmp(e->text, s, n) == 0)
      return k;
  }
}

/* Takes e into m unless m holds its text already (then frees it). */
static void memo_add(struct parse_memo *m, struct memo_entry *e) {
  if (memo_find(m, e->hash, e->text, e->len, e->at_eof) >= 0) {
    free(e->text);
    ptask_release(&e->task);
    for (size_t i = 0; i < e->ndiags; i++)
      free(e->diags[i].msg);
    free(e->diags);
    return;
  }
  if ((m->n + 1) * 2 > m->nslots) {
    size_t ns = m->nslots ? m->nslots * 2 : 64;
    free(m->slots);
    m->slots = xmalloc(ns * sizeof *m->slots);
    m->nslots = ns;
    for (size_t i = 0; i < ns; i++)
      m->slots[i] = -1;
    for (size_t k = 0; k < m->n; k++) {
      size_t i = m->v[k].hash & (ns - 1);
      while (m->slots[i] >= 0)
        i = (i + 1) & (ns - 1);
      m->slots[i] = (long)k;
    }
  }
  XGROW(m->v, m->cap, m->n + 1);
  m->v[m->n] = *e;
  size_t i = e->hash & (m->nslots - 1);
  while (m->slots[i] >= 0)
    i = (i + 1) & (m->nslots - 1);
  m->slots[i] = (long)m->n++;
}

static void memo_clear(struct parse_memo *m) {
  for (size_t k = 0; k < m->n; k++) {
    struct memo_entry *e = &m->v[k];
    free(e->text);
    ptask_release(&e->task);
    for (size_t i = 0; i < e->ndiags; i++)
      free(e->diags[i].msg);
    free(e->diags);
  }
  free(m->v);
  free(m->slots);
  m->v = NULL;
  m->slots = NULL;
  m->n = m->cap = m->nslots = 0;
}

/*
 * Parses the lines [from, to) as one cmark document, followed by a
 * heading line when close, and appends their blocks. The split lines in
 * it (levels in split[], by line) must be exactly its headings of levels
 * 1 to 3, and the closing line a heading; false otherwise.
 */
static bool parse_run(struct parser *p, int from, int to, bool close,
                      const int *split) {
  size_t s = line_start(p, from), e = line_start(p, to);
  cmark_node *root;
  if (close) {
    char *text = xmalloc(e - s + 3);
    memcpy(text, p->t + s, e - s);
    memcpy(text + (e - s), "#\n", 3);
    root = cmark_run(p, text, e - s + 2);
    free(text);
  } else {
    root = cmark_run(p, p->t + s, e - s);
  }
  int next = from; /* the next split line expected */
  while (next < to && !split[next])
    next++;
  for (cmark_node *n = cmark_node_first_child(root); n;
       n = cmark_node_next(n)) {
    int line = cmark_node_get_start_line(n) + from - 1;
    bool heading = cmark_node_get_type(n) == CMARK_NODE_HEADING;
    if (line >= to) {
      if (!close || !heading || line != to || cmark_node_next(n))
        return false;
      return next >= to;
    }
    if (heading && cmark_node_get_heading_level(n) <= 3) {
      if (line != next || cmark_node_get_heading_level(n) != split[line])
        return false;
      next++;
      while (next < to && !split[next])
        next++;
    }
    add_block(p, n, from - 1);
  }
  return !close && next >= to;
}

/* A heading block that the memo gives, at a split line. */
static void add_memo_block(struct parser *p, int line, long entry) {
  XGROW(p->blocks, p->capblocks, p->nblocks + 1);
  p->blocks[p->nblocks++] = (struct block){.type = B_HEADING,
                                           .level = 3,
                                           .line = line,
                                           .end = line,
                                           .offset = line - 1,
                                           .memo = entry};
}

/*
 * The blocks of a group file, segment by segment: the task blocks of
 * status sections that the memo holds are taken from it, the rest is
 * parsed in runs. Which sections are status sections is read from their
 * heading lines as parse_group reads them. False when the text does not
 * split as it looks (the caller then parses it whole).
 */
static bool collect_memo(struct parser *p) {
  const struct parse_memo *m = p->memo;
  int end = p->nlines + 1;
  int *split = xcalloc((size_t)end + 1, sizeof *split);
  for (int l = p->body_line; l < end; l++)
    split[l] = split_level(p, l);
  bool ok = true, seen_heading = false, in_status = false;
  int run = p->body_line; /* the first line not yet parsed */
  int l = p->body_line;
  /* The lines before the first split line: a heading among them is the
   * first heading of the file, which decides what the title is. */
  while (l < end && !split[l])
    l++;
  if (l > run) {
    ok = parse_run(p, run, l, l < end, split);
    for (size_t i = 0; i < p->nblocks; i++)
      seen_heading |= p->blocks[i].type == B_HEADING;
    run = l;
  }
  while (ok && l < end) {
    int next = l + 1;
    while (next < end && !split[next])
      next++;
    long hit = -1;
    if (split[l] <= 2) {
      if (!seen_heading && split[l] == 1) {
        in_status = false;
      } else {
        struct block h = {.type = B_HEADING, .line = l, .end = l};
        char *text = heading_text(p, &h);
        int status;
        in_status = classify(p, text, &status) == S_STATUS;
        free(text);
      }
    } else if (in_status) {
      size_t s = line_start(p, l), e = line_start(p, next);
      hit = memo_find(m, text_hash(p->t + s, e - s), p->t + s, e - s,
                      next == end);
    }
    seen_heading = true;
    if (hit >= 0) {
      if (run < l)
        ok = parse_run(p, run, l, true, split);
      add_memo_block(p, l, hit);
      run = next;
    }
    l = next;
  }
  if (ok && run < end)
    ok = parse_run(p, run, end, false, split);
  free(split);
  return ok;
}

/* The task blocks of the text just parsed become the memo's: those the
 * old memo gave move over, the others are copied with their lines
 * counted from their heading. A block is kept only when it is a segment:
 * its heading and the line after it (if any) split. */
static void memo_update(struct parser *p, struct parse_memo *m) {
  struct parse_memo next = {.stats = m->stats};
  const struct doc *d = p->doc;
  for (size_t i = 0; i < d->ntasks; i++) {
    const struct ptask *t = &d->tasks[i];
    const struct task_span *sp = &p->spans[i];
    if (t->section_status < 0 || split_level(p, t->line) != 3 ||
        (t->end_line < p->nlines && !split_level(p, t->end_line + 1)))
      continue;
    struct memo_entry e;
    if (sp->memo >= 0) {
      struct memo_entry *old = &m->v[sp->memo];
      if (!old->text)
        continue; /* the same text twice: moved already */
      e = *old;
      old->text = NULL;
      memset(&old->task, 0, sizeof old->task);
      old->diags = NULL;
      old->ndiags = 0;
    } else {
      size_t s = line_start(p, t->line), en = line_start(p, t->end_line + 1);
      e = (struct memo_entry){.hash = text_hash(p->t + s, en - s),
                              .text = xstrndup(p->t + s, en - s),
                              .len = en - s,
                              .at_eof = t->end_line >= p->nlines};
      ptask_copy(&e.task, t);
      ptask_shift(&e.task, 1 - t->line);
      free(e.task.table_title);
      e.task.table_title = NULL;
      e.task.table_status = e.task.table_progress = -1;
      e.task.table_line = 0;
      e.task.section_status = -1;
      e.ndiags = sp->d1 - sp->d0;
      e.diags = e.ndiags ? xmalloc(e.ndiags * sizeof *e.diags) : NULL;
      for (size_t k = 0; k < e.ndiags; k++) {
        const struct diag *g = &d->diags.v[sp->d0 + k];
        e.diags[k] =
            (struct diag){g->line + 1 - t->line, g->level, xstrdup(g->msg)};
      }
    }
    memo_add(&next, &e);
  }
  memo_clear(m);
  *m = next;
}

struct parse_memo *parse_memo_new(void) {
  return xcalloc(1, sizeof(struct parse_memo));
}

void parse_memo_free(struct parse_memo *m) {
  if (!m)
    return;
  memo_clear(m);
  free(m);
}

void parse_memo_stats(const struct parse_memo *m,
                      struct parse_memo_stats *out) {
  *out = m->stats;
  out->bytes = 0;
  for (size_t k = 0; k < m->n; k++)
    out->bytes += m->v[k].len;
}

void parse_doc(const char *text, size_t len, int hint, struct doc *doc) {
  parse_doc_memo(text, len, hint, NULL, doc);
}

void parse_doc_memo(const char *text, size_t len, int hint,
                    struct parse_memo *memo, struct doc *doc) {
  doc_init(doc, hint);
  struct parser p = {.doc = doc};
  if (!normalise(&p, text, len)) {
    doc->text = xstrdup("");
    if (memo)
      memo->stats = (struct parse_memo_stats){.whole = true};
    return;
  }
  parse_front_matter(&p);
  if (doc->has_front_matter) {
    int kind = doc->task      ? DOC_TASK
               : doc->group   ? DOC_GROUP
               : doc->notes   ? DOC_NOTES
               : doc->session ? DOC_SESSION
                              : DOC_UNKNOWN;
    if (kind != DOC_UNKNOWN)
      doc->kind = kind;
  }
  if (memo && doc->kind == DOC_GROUP) {
    p.memo = memo;
    memo->stats = (struct parse_memo_stats){0};
    if (!collect_memo(&p)) {
      for (size_t i = 0; i < p.nroots; i++)
        cmark_node_free(p.roots[i]);
      p.nroots = p.nblocks = 0;
      collect_blocks(&p);
      memo->stats.whole = true;
    } else {
      index_blocks(&p);
    }
  } else {
    if (memo) {
      memo_clear(memo);
      memo->stats = (struct parse_memo_stats){.whole = true};
    }
    collect_blocks(&p);
  }
  switch (doc->kind) {
  case DOC_GROUP:
    parse_group(&p);
    break;
  case DOC_TASK:
    parse_task_file(&p);
    break;
  case DOC_SESSION:
    parse_session(&p);
    break;
  case DOC_NOTES:
    parse_notes(&p);
    break;
  default:
    diags_add(&doc->diags, DIAG_ERROR, 1,
              "cannot tell what this file is: it has no taskfs front "
              "matter");
  }
  /* Duplicate ids among task blocks (sorted, so n log n). */
  size_t nid;
  struct task_ref *byid = tasks_by_id(doc, &nid);
  for (size_t k = 1; k < nid; k++) {
    const struct ptask *a = &doc->tasks[byid[k - 1].index];
    const struct ptask *b = &doc->tasks[byid[k].index];
    if (strcmp(a->id, b->id) == 0)
      diags_add(&doc->diags, DIAG_ERROR, b->line,
                "task '%s' appears twice (also at line %d): remove one "
                "block",
                b->id, a->line);
  }
  free(byid);
  if (p.memo) {
    for (size_t i = 0; i < doc->ntasks; i++)
      if (p.spans[i].memo >= 0)
        memo->stats.reused++;
      else
        memo->stats.parsed++;
    memo_update(&p, memo);
  }
  for (size_t i = 0; i < p.nroots; i++)
    cmark_node_free(p.roots[i]);
  free(p.roots);
  free(p.spans);
  free(p.blocks);
  free(p.block_at_line);
  free(p.ls);
}

bool parse_find_generated(const char *text, size_t len, const char *name,
                          size_t *start, size_t *end) {
  /* A section heading line, or "field:<key>" for a header field line. */
  const char *p = text, *stop = text + len;
  bool field = str_starts(name, "field:");
  while (p < stop) {
    const char *nl = memchr(p, '\n', (size_t)(stop - p));
    const char *le = nl ? nl : stop;
    size_t n = (size_t)(le - p);
    bool hit = false;
    if (field) {
      struct field f;
      if (read_field(p, n, &f)) {
        hit = strcmp(f.key, name + 6) == 0;
        free(f.value);
      }
    } else {
      hit = n == strlen(name) && memcmp(p, name, n) == 0;
    }
    if (hit) {
      *start = (size_t)(p - text);
      if (field) {
        *end = (size_t)((nl ? nl + 1 : stop) - text);
        return true;
      }
      /* To the next heading of level 1 or 2. */
      const char *q = nl ? nl + 1 : stop;
      while (q < stop) {
        if (q[0] == '#' && (q + 1 < stop) &&
            (q[1] == ' ' || (q[1] == '#' && q + 2 < stop && q[2] == ' ')))
          break;
        const char *n2 = memchr(q, '\n', (size_t)(stop - q));
        q = n2 ? n2 + 1 : stop;
      }
      *end = (size_t)(q - text);
      return true;
    }
    p = nl ? nl + 1 : stop;
  }
  return false;
}
