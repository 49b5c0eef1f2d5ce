/* SPDX-License-Identifier: MIT */
/* report.c: the read-only files that report on the store rather than
 * show records: meta/sync_status.md, meta/edit_log.md, backups and error
 * files. Reads the store; nothing parses these files back. */
#include "report.h"
#include "escape.h"
#include "load.h"
#include "names.h"
#include "render.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define EMOJI_WARN "\xe2\x9a\xa0\xef\xb8\x8f" /* ⚠️ */
#define DASH "\xe2\x80\x94"                   /* — */

/* The front matter and title of meta/<name>.md, and a note under the
 * title. */
static void add_meta_head(struct buf *out, const char *session_id,
                          const char *name, int heading, const char *title,
                          const char *note) {
  render_front_matter(out, session_id, "meta", name, -1);
  buf_printf(out, "\n# %s %s\n\n%s\n", heading_emoji(heading), title, note);
}

/* Each line of text that is not empty as a list item: bullet, then the
 * line. */
static void add_items(struct buf *out, const char *text, const char *bullet) {
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n) {
      buf_adds(out, bullet);
      buf_add(out, p, n);
      buf_addc(out, '\n');
    }
    p += n + (nl ? 1 : 0);
  }
}

/* The path of the file a draft is held at, within its session. */
static void draft_path(struct store *st, const struct draft *d,
                       struct buf *out) {
  if (strcmp(d->kind, "session") == 0) {
    buf_adds(out, "session.md");
  } else if (strcmp(d->kind, "notes") == 0) {
    const char *slash = strchr(d->record, '/');
    buf_printf(out, "notes/%s.md", slash ? slash + 1 : d->record);
  } else if (strcmp(d->kind, "group") == 0) {
    struct group g;
    group_init(&g);
    buf_adds(out, "task_groups/");
    name_for_file(
        store_group_get(st, d->record, &g) == ENG_OK ? g.name : d->record, out);
    buf_adds(out, ".md");
    group_release(&g);
  } else {
    struct task t;
    task_init(&t);
    int status =
        store_task_get(st, d->record, &t) == ENG_OK ? t.status : STATUS_PLANNED;
    buf_printf(out, "tasks/%s/", status_name(status));
    name_for_file(d->record, out);
    buf_adds(out, ".md");
    task_release(&t);
  }
}

static void add_rate(struct buf *out, const char *name, double rate) {
  buf_printf(out, "| %s | %.1f%% |\n", name, rate * 100.0);
}

int report_sync_status(struct store *st, const char *session_id,
                       struct buf *out, struct render_info *info) {
  struct draft *ds = NULL;
  struct conflict *cs = NULL;
  size_t nd = 0, nc = 0;
  struct sync_stats x;
  struct strlist kinds = {0}, counts = {0}, failed = {0};
  int64_t rev = 0;
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_draft_list(st, session_id, &ds, &nd)) ||
      (rc = store_conflict_list(st, session_id, NULL, NULL, true, &cs, &nc)) ||
      (rc = store_sync_stats(st, session_id, &x)) ||
      (rc = store_sync_error_kinds(st, session_id, &kinds, &counts)) ||
      (rc = store_syncops_failed(st, session_id, 10, &failed)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, NULL, &rev)))
    goto out;
  /* Saves only: a file that changed with every read of any file would
   * not be a file (renders are in 'taskctl stats'). */
  add_meta_head(out, session_id, "sync_status", HEADING_METRICS, "Sync Status",
                "_Generated from the sync log; edits to this file are not "
                "kept. Reads and render times: `taskctl stats`._");

  buf_adds(out, "\n## \xf0\x9f\xa9\xba Health\n\n"
                "| Metric | Value |\n|---|---|\n");
  buf_printf(out, "| Saves and resolutions | %lld |\n", (long long)x.saves);
  add_rate(out, "Save success rate", x.save_success_rate);
  add_rate(out, "Conflict rate", x.conflict_rate);
  buf_printf(out, "| Save time p50 / p95 | %.2f ms / %.2f ms |\n",
             x.save_p50_ms, x.save_p95_ms);
  buf_printf(out, "| Conflicts | %lld recorded, %lld open |\n",
             (long long)x.conflicts_total, (long long)x.conflicts_open);
  add_rate(out, "User resolution rate", x.resolution_rate);

  buf_adds(out, "\n## \xe2\x9d\x97 Errors by Kind\n\n");
  if (!kinds.n)
    buf_adds(out, "_None._\n");
  for (size_t i = 0; i < kinds.n; i++)
    buf_printf(out, "- %s: %s\n", kinds.v[i], counts.v[i]);

  buf_printf(out, "\n## \xf0\x9f\x94\x84 Open Conflicts (%zu)\n\n", nc);
  if (nc == 0)
    buf_adds(out, "_None._\n");
  struct buf path = BUF_INIT;
  for (size_t i = 0; i < nc; i++) {
    struct draft d = {.kind = cs[i].file_kind, .record = cs[i].file_record};
    buf_truncate(&path, 0);
    draft_path(st, &d, &path);
    buf_printf(
        out, "- %lld: %s, %s (%s) in [%.*s.conflict.md](../%.*s.conflict.md)\n",
        (long long)cs[i].id, cs[i].label, cs[i].field, cs[i].type,
        (int)path.len - 3, path.ptr, (int)path.len - 3, path.ptr);
  }

  buf_printf(out, "\n## " EMOJI_WARN " Files Held with Errors (%zu)\n\n", nd);
  if (nd == 0)
    buf_adds(out, "_None: every saved file was applied._\n");
  for (size_t i = 0; i < nd; i++) {
    buf_truncate(&path, 0);
    draft_path(st, &ds[i], &path);
    char t[32];
    time_display(ds[i].created_at, t);
    buf_printf(
        out, "- [%s](../%s) since %s, see [%.*s.error.md](../%.*s.error.md)\n",
        path.ptr, path.ptr, t, (int)path.len - 3, path.ptr, (int)path.len - 3,
        path.ptr);
    add_items(out, ds[i].diagnostics, "  - ");
  }
  buf_release(&path);

  buf_adds(out, "\n## \xf0\x9f\x93\x9c Last Errors\n\n");
  if (!failed.n)
    buf_adds(out, "_None._\n");
  for (size_t i = 0; i < failed.n; i++) {
    buf_adds(out, "- ");
    render_line(out, failed.v[i]);
    buf_addc(out, '\n');
  }
  /* Dated by the session's last change or save, whichever is later,
   * with revision 0: the sync log has none, so readers re-render it
   * every time. */
  load_info(st, info, rev);
  if (info) {
    int64_t last = 0;
    if (store_sync_last_ns(st, session_id, &last) == ENG_OK &&
        last > info->mtime_ns)
      info->mtime_ns = last;
    info->rev = 0;
  }
out:
  store_read_end(st);
  store_drafts_free(ds, nd);
  store_conflicts_free(cs, nc);
  strlist_clear(&kinds);
  strlist_clear(&counts);
  strlist_clear(&failed);
  return rc;
}

int report_edit_log(struct store *st, const char *session_id, struct buf *out,
                    struct render_info *info) {
  struct change *ch = NULL;
  size_t n = 0;
  int64_t rev = 0;
  int rc = store_read_begin(st);
  if (rc)
    return rc;
  if ((rc = store_changes_recent(st, session_id, "taskfs", 200, &ch, &n)) ||
      (rc = store_owner_revision(st, OWNER_SESSION, session_id, NULL, &rev)))
    goto out;
  add_meta_head(out, session_id, "edit_log", HEADING_ACTIVITY, "Edit Log",
                "_Changes made by editing files, newest first. "
                "Generated._");
  buf_addc(out, '\n');
  if (n == 0)
    buf_adds(out, "_No edits yet._\n");
  for (size_t i = 0; i < n; i++) {
    char t[32];
    time_display(ch[i].at, t);
    buf_printf(out, "- r%lld %s " DASH " %s `", (long long)ch[i].rev, t,
               ch[i].table);
    render_line(out, ch[i].record);
    buf_addc(out, '`');
    if (strcmp(ch[i].op, "update") == 0 && ch[i].field) {
      buf_printf(out, " %s: ", ch[i].field);
      bool longtext = (ch[i].old_value && strlen(ch[i].old_value) > 60) ||
                      (ch[i].new_value && strlen(ch[i].new_value) > 60) ||
                      (ch[i].old_value && strchr(ch[i].old_value, '\n')) ||
                      (ch[i].new_value && strchr(ch[i].new_value, '\n'));
      if (longtext) {
        buf_adds(out, "text changed");
      } else {
        buf_adds(out, "`");
        render_line(out, ch[i].old_value ? ch[i].old_value : "");
        buf_adds(out, "` \xe2\x86\x92 `"); /* → */
        render_line(out, ch[i].new_value ? ch[i].new_value : "");
        buf_adds(out, "`");
      }
    } else {
      buf_printf(out, " %s",
                 strcmp(ch[i].op, "insert") == 0 ? "created" : "removed");
    }
    buf_addc(out, '\n');
  }
  load_info(st, info, rev);
out:
  store_read_end(st);
  store_changes_free(ch, n);
  return rc;
}

int report_error(struct store *st, const char *kind, const char *record,
                 const char *path, struct buf *out, struct render_info *info) {
  struct draft d = {0};
  int rc = store_draft_get(st, kind, record, &d);
  if (rc)
    return rc;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char t[32];
  time_display(d.created_at, t);
  render_front_matter(out, NULL, "error", path, -1);
  buf_printf(out, "\n# " EMOJI_WARN " %s could not be applied\n\n", path);
  buf_printf(out,
             "The text saved to `%s` at %s is kept there, exactly as it "
             "was written, until it is fixed or discarded. None of it was "
             "applied to the database.\n\n## Problems\n\n",
             base, t);
  add_items(out, d.diagnostics, "- ");
  buf_printf(out,
             "\n## What to do\n\n"
             "- Fix those lines in `%s` and save it again: it is applied as "
             "soon as it reads cleanly, and this file goes away.\n"
             "- Or delete this file to discard the held text: `%s` then "
             "shows the database again, and the discarded text is kept as a "
             "backup.\n",
             base, base);
  render_info_set(info, 0, d.created_at);
  store_draft_release(&d);
  return ENG_OK;
}

int report_backup(struct store *st, int64_t id, struct buf *out,
                  struct render_info *info) {
  struct backup b = {0};
  int rc = store_backup_get(st, id, &b);
  if (rc)
    return rc;
  char t[32];
  time_display(b.created_at, t);
  char ids[32];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  render_front_matter(out, b.session_id, "backup", ids, -1);
  buf_printf(out, "\n# \xf0\x9f\x92\xbe Backup %lld\n\n", (long long)id);
  if (b.field)
    buf_printf(out, "- **Of**: %s `%s`, %s\n", b.target_kind, b.target_id,
               b.field);
  else
    buf_printf(out, "- **Of**: the text saved to the %s file `%s`\n", b.kind,
               b.record);
  buf_printf(out, "- **Why**: %s\n- **Kept**: %s\n", b.reason, t);
  buf_printf(out, "- **Bring it back**: `taskctl restore-backup %lld`\n\n",
             (long long)id);
  escape_fenced(b.text, b.len, out);
  render_info_set(info, 1, b.created_at);
  store_backup_release(&b);
  return ENG_OK;
}
