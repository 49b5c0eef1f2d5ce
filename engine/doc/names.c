/* SPDX-License-Identifier: MIT */
/* names.c: safe ids and file names. */
#include "names.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

bool id_is_valid(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > 120 || id[0] == '.')
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (!isalnum(c) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

bool utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  while (p < end) {
    unsigned char c = *p;
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      p++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if ((size_t)(end - p) < len)
      return false;
    for (size_t i = 1; i < len; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    p += len;
  }
  return true;
}

bool name_is_safe(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > NAME_MAX_BYTES || name[0] == '.' || name[0] == ' ' ||
      name[n - 1] == ' ')
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
      return false;
  }
  if (str_ends(name, ".conflict") || str_ends(name, ".error"))
    return false;
  return utf8_valid(name, n);
}

static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

void name_for_file(const char *name, struct buf *out) {
  if (name_is_safe(name)) {
    buf_adds(out, name);
    return;
  }
  size_t start = out->len;
  const char *s = name ? name : "";
  for (size_t i = 0; s[i] && out->len - start < 100; i++) {
    unsigned char c = (unsigned char)s[i];
    bool bad = c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c >= 0x80 ||
               ((c == '.' || c == ' ') && out->len == start);
    buf_addc(out, bad ? '_' : (char)c);
  }
  buf_printf(out, "~%08x", fnv1a(s));
}

void slug(const char *text, int max_words, struct buf *out) {
  size_t start = out->len;
  int words = 0;
  bool in_word = false;
  for (const char *p = text; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (isalnum(c) && c < 0x80) {
      if (!in_word) {
        if (max_words && words == max_words)
          break;
        if (out->len - start + 1 >= 40)
          break;
        if (words)
          buf_addc(out, '_');
        words++;
        in_word = true;
      }
      if (out->len - start < 40)
        buf_addc(out, (char)tolower(c));
    } else if (c < 0x80 || !in_word) {
      in_word = false;
    }
  }
}

void name_from_title(const char *title, struct buf *out) {
  size_t start = out->len;
  slug(title, 0, out);
  if (out->len == start)
    buf_adds(out, "group");
}

void section_key(const char *heading_line, struct buf *out) {
  const char *p = heading_line;
  while (*p == '#')
    p++;
  size_t start = out->len;
  slug(p, 0, out);
  if (out->len == start)
    buf_adds(out, "section");
}
