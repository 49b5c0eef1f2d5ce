/* SPDX-License-Identifier: MIT */
/* grammar.c: the labels, section titles, emoji and synonyms of the file
 * format in one table each. Holds no state and reads nothing. */
#include "grammar.h"
#include "doc.h"
#include "model.h"
#include "util.h"

#include <string.h>

#define SYNONYMS 4

/* kind: the only doc kind whose field lines carry the label (DOC_UNKNOWN:
 * all); read_as: the label a field line of it stands for. */
static const struct {
  const char *title;
  const char *synonyms[SYNONYMS];
  int kind, read_as;
  bool field;
} labels[LABEL_COUNT] = {
    [LABEL_STATUS] = {"Status", {0}, DOC_UNKNOWN, LABEL_STATUS, true},
    [LABEL_GROUP] = {"Group", {0}, DOC_TASK, LABEL_GROUP, true},
    [LABEL_PROGRESS] = {"Progress", {0}, DOC_UNKNOWN, LABEL_PROGRESS, true},
    [LABEL_PRIORITY] = {"Priority", {0}, DOC_UNKNOWN, LABEL_PRIORITY, true},
    [LABEL_SPECIALIST] =
        {"Specialist", {"specialists"}, DOC_UNKNOWN, LABEL_SPECIALIST, true},
    [LABEL_FOCUS] =
        {"Specialist focus", {0}, DOC_UNKNOWN, LABEL_SPECIALIST, true},
    [LABEL_MODE] = {"Mode", {0}, DOC_SESSION, LABEL_MODE, true},
    [LABEL_ESTIMATE] = {"Estimate",
                        {"estimated", "estimated effort", "estimate effort"},
                        DOC_UNKNOWN,
                        LABEL_ESTIMATE,
                        true},
    [LABEL_ACTUAL] =
        {"Actual", {"actual effort"}, DOC_UNKNOWN, LABEL_ACTUAL, true},
    [LABEL_DEPENDS] = {"Depends on",
                       {"dependencies", "depends"},
                       DOC_UNKNOWN,
                       LABEL_DEPENDS,
                       true},
    [LABEL_STARTED] = {"Started", {0}, DOC_UNKNOWN, LABEL_STARTED, true},
    [LABEL_COMPLETED] = {"Completed", {0}, DOC_UNKNOWN, LABEL_COMPLETED, true},
    [LABEL_CREATED] = {"Created", {0}, DOC_UNKNOWN, LABEL_CREATED, true},
    [LABEL_UPDATED] =
        {"Updated", {"last updated"}, DOC_UNKNOWN, LABEL_UPDATED, true},
    [LABEL_ID] =
        {"Task ID", {"group id", "session id"}, DOC_UNKNOWN, LABEL_ID, true},
    [LABEL_DELIVERABLES] =
        {"Deliverables", {0}, DOC_UNKNOWN, LABEL_DELIVERABLES, false},
    [LABEL_CURRENT] =
        {"Current status", {0}, DOC_UNKNOWN, LABEL_CURRENT, false},
};

/* kind: the only doc kind where the heading is taskfs's (DOC_UNKNOWN:
 * all); user: an empty user section, never read as taskfs's. */
static const struct {
  const char *emoji, *title;
  const char *synonyms[SYNONYMS];
  int kind;
  bool user;
} headings[HEADING_COUNT] = {
    [HEADING_METRICS] = {"\xf0\x9f\x93\x8a", /* 📊 */
                         "Metrics",
                         {"group metrics", "session metrics"},
                         DOC_UNKNOWN,
                         false},
    [HEADING_OVERVIEW] = {"\xf0\x9f\x97\x82\xef\xb8\x8f", /* 🗂️ */
                          "Task Overview",
                          {"overview"},
                          DOC_GROUP,
                          false},
    [HEADING_GROUPS] = {"\xf0\x9f\x8e\xaf", /* 🎯 */
                        "Task Groups",
                        {"groups"},
                        DOC_SESSION,
                        false},
    [HEADING_CHART] = {"\xf0\x9f\x93\x88", /* 📈 */
                       "Status Chart",
                       {0},
                       DOC_SESSION,
                       false},
    [HEADING_ACTIVITY] = {"\xf0\x9f\x93\x9d", /* 📝 */
                          "Recent Activity",
                          {"activity"},
                          DOC_SESSION,
                          false},
    [HEADING_NOTES_FILE] = {"\xf0\x9f\x97\x92\xef\xb8\x8f", /* 🗒️ */
                            "Notes Files",
                            {0},
                            DOC_SESSION,
                            false},
    [HEADING_NOTES] = {"\xf0\x9f\x93\x9d", /* 📝 */
                       "Notes",
                       {0},
                       DOC_UNKNOWN,
                       true},
    [HEADING_INSIGHTS] = {"\xf0\x9f\x92\xa1", /* 💡 */
                          "Key Insights",
                          {0},
                          DOC_SESSION,
                          true},
};

const char *const notes_names[NOTES_COUNT] = {"decisions", "learnings",
                                              "resources"};
const char *const notes_titles[NOTES_COUNT] = {"Decisions", "Learnings",
                                               "Resources"};
const char *const notes_emojis[NOTES_COUNT] = {
    "\xf0\x9f\xa7\xad", /* 🧭 */
    "\xf0\x9f\x92\xa1", /* 💡 */
    "\xf0\x9f\x94\x97", /* 🔗 */
};

int notes_index(const char *name) {
  for (int i = 0; i < NOTES_COUNT; i++)
    if (str_eq(name, notes_names[i]))
      return i;
  return -1;
}

/* Whether word is title (normalised) or one of the synonyms. */
static bool word_is(const char *word, const char *title,
                    const char *const synonyms[SYNONYMS]) {
  char w[64];
  words_normalize(title, w, sizeof w);
  if (strcmp(word, w) == 0)
    return true;
  for (int i = 0; i < SYNONYMS && synonyms[i]; i++)
    if (strcmp(word, synonyms[i]) == 0)
      return true;
  return false;
}

const char *label_title(int label) {
  return label >= 0 && label < LABEL_COUNT ? labels[label].title : "";
}

int label_field(const char *key, int kind) {
  for (int i = 0; i < LABEL_COUNT; i++) {
    if (!labels[i].field || !word_is(key, labels[i].title, labels[i].synonyms))
      continue;
    if (labels[i].kind != DOC_UNKNOWN && labels[i].kind != kind)
      return LABEL_NONE;
    return labels[i].read_as;
  }
  return LABEL_NONE;
}

bool label_is(const char *word, int label) {
  return label >= 0 && label < LABEL_COUNT &&
         word_is(word, labels[label].title, labels[label].synonyms);
}

const char *heading_title(int h) {
  return h >= 0 && h < HEADING_COUNT ? headings[h].title : "";
}

const char *heading_emoji(int h) {
  return h >= 0 && h < HEADING_COUNT ? headings[h].emoji : "";
}

int heading_parse(const char *words, int kind) {
  for (int i = 0; i < HEADING_COUNT; i++) {
    if (headings[i].user ||
        (headings[i].kind != DOC_UNKNOWN && headings[i].kind != kind))
      continue;
    if (word_is(words, headings[i].title, headings[i].synonyms))
      return i;
  }
  return HEADING_NONE;
}
