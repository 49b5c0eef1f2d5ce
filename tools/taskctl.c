/* SPDX-License-Identifier: MIT */
/* taskctl.c: the command line of taskctl: global options, the command
 * table and its help, opening the database, and the one mapping from
 * engine results to exit statuses. The commands live in cmd_*.c. */
#include "taskctl.h"
#include "names.h"
#include "taskfs_version.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DIR ".task_orchestrator"
#define DEFAULT_DB DEFAULT_DIR "/tasks.db"

struct command {
  const char *group, *name; /* "task", "add"; group NULL at top level */
  size_t min_pos, max_pos;  /* positional arguments after the words */
  enum open_mode open;
  unsigned opts; /* OPT_BIT()s of the options it accepts */
  int (*run)(struct ctl *c);
  const char *usage; /* the synopsis after "taskctl " */
  const char *help;  /* what it does, then its options */
};

#define B OPT_BIT
#define TASK_OPTS                                                              \
  (B(O_TITLE) | B(O_STATUS) | B(O_PROGRESS) | B(O_PRIORITY) |                  \
   B(O_SPECIALIST) | B(O_DESCRIPTION) | B(O_ESTIMATE) | B(O_ACTUAL) |          \
   B(O_DEPENDS) | B(O_DELIVERABLE) | B(O_CURRENT_STATUS))
#define GROUP_OPTS                                                             \
  (B(O_NAME) | B(O_TITLE) | B(O_STATUS) | B(O_PRIORITY) | B(O_SPECIALIST) |    \
   B(O_DESCRIPTION))

#define TASK_FIELD_HELP                                                        \
  "  --status S           planned, active, blocked or completed (synonyms\n"   \
  "                       such as todo, in progress, done are accepted);\n"    \
  "                       completed makes progress 100 unless --progress\n"    \
  "                       is given too\n"                                      \
  "  --progress N         0-100, as 60 or 60%\n"                               \
  "  --priority P         low, medium, high or critical\n"                     \
  "  --specialist F       the role that works on it (implementer, ...)\n"      \
  "  --description D      free text; may span lines\n"                         \
  "  --estimate E         effort as 4h, 1.5h, 90m or 1h30m\n"                  \
  "  --actual E           effort spent, same forms\n"                          \
  "  --depends ID         a task it depends on; repeat for more\n"             \
  "  --deliverable TEXT   something it produces; repeat for more\n"            \
  "  --current-status T   a one-line note on where it stands\n"

static const struct command commands[] = {
    {NULL, "init", 0, 0, OPEN_CREATE, 0, cmd_init, "init",
     "Creates the database, and the .task_orchestrator folder when the\n"
     "default path is used. Does nothing to an existing database. Prints\n"
     "the path of the database.\n"},
    {NULL, "demo", 0, 0, OPEN_CREATE, 0, cmd_demo, "demo",
     "Creates the database if needed and loads a demo session (the\n"
     "\"Advanced Analytics Dashboard\": four groups, 35 tasks, notes).\n"
     "Prints the new session's id; runs any number of times.\n"},
    {NULL, "export", 0, 0, OPEN_READ, 0, cmd_export, "export",
     "Prints the whole database as one JSON object: sessions with their\n"
     "groups, tasks and sections, deleted records included.\n"},
    {NULL, "backup", 0, 1, OPEN_NONE, B(O_FORCE) | B(O_LIST), cmd_backup,
     "backup [--force] FILE | --list",
     "Copies the whole database to FILE as it is at one moment, also while\n"
     "taskfs has it mounted and other programs write to it (SQLite's\n"
     "online backup API; a cp of a live database is not a backup). The\n"
     "copy is written beside FILE under a temporary name, checked with\n"
     "PRAGMA quick_check and only then renamed to FILE: a failed backup\n"
     "leaves nothing at FILE. Prints its path and the revision it holds.\n"
     "\n"
     "  --force              replace FILE if it exists (else exit 4)\n"
     "  --list               list the automatic backups instead, newest\n"
     "                       first: time (UTC), reason, size, path. They\n"
     "                       are made before a restore and before a schema\n"
     "                       upgrade, in taskfs-backups beside the database,\n"
     "                       and never deleted by taskfs\n"},
    {NULL, "restore", 1, 1, OPEN_NONE, 0, cmd_restore, "restore FILE",
     "Makes the sessions, groups, tasks and sections of the database those\n"
     "of the backup FILE, as ordinary changes in one transaction: the\n"
     "history records them with the source \"restore\", the revision moves\n"
     "forward, and a mount shows the restored state at once. Records FILE\n"
     "does not have are deleted softly; drafts, conflicts, backups of\n"
     "values and the sync log are kept. The database as it was is saved\n"
     "first, in taskfs-backups beside it (see 'backup --list').\n"
     "\n"
     "A database that is damaged (fails PRAGMA quick_check) or missing is\n"
     "not changed but moved aside, as NAME.damaged-TIME with its -wal and\n"
     "-shm files, and a copy of FILE takes its place.\n"
     "\n"
     "FILE must be a taskfs database that passes PRAGMA quick_check; one\n"
     "with an older schema is upgraded in memory (FILE is not changed),\n"
     "one from a newer taskfs is refused.\n"},
    {NULL, "check", 0, 0, OPEN_READ, 0, cmd_check, "check",
     "Checks the database with PRAGMA quick_check. A damaged database is\n"
     "exit 6, with a message that names the first problems, the newest\n"
     "automatic backups and the command that restores one.\n"},
    {NULL, "copy", 0, 0, OPEN_NONE, B(O_FROM) | B(O_TO), cmd_copy,
     "copy [--from DB] --to DB",
     "Copies the whole database into another, of either kind: an SQLite\n"
     "file or a PostgreSQL database (postgresql://... or service=NAME),\n"
     "to move from a file to a server and back. Everything is copied as it\n"
     "is: sessions, groups, tasks and sections, the history with its\n"
     "revisions, times and sources, drafts, backups, conflicts, the sync\n"
     "log and the revision counter, so that reads as of any revision and\n"
     "the next revision are the same on the copy. The source is read in\n"
     "one snapshot, also while other programs write to it; the target is\n"
     "written in one transaction and verified before its commit (rows of\n"
     "every table and the revision equal on both sides, and the check of\n"
     "'taskctl check'): a failed copy leaves it as it was, and removes a\n"
     "file it created. Prints one line: what was copied and verified.\n"
     "\n"
     "  --from DB            the database to copy (default: the one -d,\n"
     "                       $TASKFS_DB or the default path names)\n"
     "  --to DB              the target: missing (it is created), or empty\n"
     "                       as 'taskctl init' makes it; a target that\n"
     "                       holds anything is refused (exit 10) and left\n"
     "                       as it is\n"},

    {"session", "create", 0, 0, OPEN_WRITE,
     B(O_TITLE) | B(O_ID) | B(O_MODE) | B(O_STATUS) | B(O_DESCRIPTION),
     cmd_session_create, "session create --title T [options]",
     "Creates a session and prints its id.\n"
     "\n"
     "  --title T            its title (required)\n"
     "  --id ID              its id (default: session_ and 8 hex digits)\n"
     "  --mode M             the orchestrator mode, e.g. "
     "development_roles.yaml\n"
     "  --status S           active (default), paused, completed or "
     "archived\n"
     "  --description D      free text\n"},
    {"session", "list", 0, 0, OPEN_READ, 0, cmd_session_list, "session list",
     "Lists the sessions: id, status, counts of groups and tasks, title.\n"},
    {"session", "show", 1, 1, OPEN_READ, 0, cmd_session_show, "session show ID",
     "Shows a session and the counts of its tasks.\n"},
    {"session", "set", 1, 1, OPEN_WRITE,
     B(O_TITLE) | B(O_MODE) | B(O_STATUS) | B(O_DESCRIPTION), cmd_session_set,
     "session set ID [--title T] [--mode M] [--status S] [--description D]",
     "Changes fields of a session. --status is one of active, paused,\n"
     "completed, archived.\n"},

    {"group", "create", 0, 0, OPEN_WRITE, GROUP_OPTS | B(O_SESSION) | B(O_ID),
     cmd_group_create, "group create --session S --name NAME [options]",
     "Creates a task group and prints its id.\n"
     "\n"
     "  --session S          the session (required)\n"
     "  --name NAME          its file name, task_groups/NAME.md (default:\n"
     "                       made from the title)\n"
     "  --title T            its title (default: the name)\n"
     "  --status S           planned (default), active, blocked, completed\n"
     "  --priority P         low, medium (default), high or critical\n"
     "  --specialist F       its specialists, e.g. \"implementer, "
     "reviewer\"\n"
     "  --description D      free text\n"
     "  --id ID              its id (default: NAME_group_001, ...)\n"},
    {"group", "list", 0, 0, OPEN_READ, B(O_SESSION) | B(O_DELETED),
     cmd_group_list, "group list [--session S] [--deleted]",
     "Lists the groups of a session (of all sessions without --session).\n"
     "\n"
     "  --session S          the session\n"
     "  --deleted            include deleted groups\n"},
    {"group", "show", 1, 1, OPEN_READ, B(O_SESSION), cmd_group_show,
     "group show ID [--session S]",
     "Shows a group. ID is its id, or its name with --session.\n"},
    {"group", "set", 1, 1, OPEN_WRITE, GROUP_OPTS | B(O_SESSION), cmd_group_set,
     "group set ID [--session S] [options]",
     "Changes fields of a group. ID is its id, or its name with --session.\n"
     "\n"
     "  --name N, --title T, --status S, --priority P, --specialist F,\n"
     "  --description D      as for 'group create'\n"},
    {"group", "rm", 1, 1, OPEN_WRITE, B(O_SESSION), cmd_group_rm,
     "group rm ID [--session S]",
     "Deletes a group softly: it and its tasks are hidden until 'group\n"
     "restore'. ID is its id, or its name with --session.\n"},
    {"group", "restore", 1, 1, OPEN_WRITE, B(O_NAME), cmd_group_restore,
     "group restore ID [--name N]",
     "Undoes 'group rm'. Fails when a live group of the session now has\n"
     "its name; --name N restores it under another name.\n"},

    {"task", "add", 0, 0, OPEN_WRITE,
     TASK_OPTS | B(O_SESSION) | B(O_GROUP) | B(O_ID), cmd_task_add,
     "task add [--session S] --group G --title T [options]",
     "Adds a task and prints its id.\n"
     "\n"
     "  --group G            its group: an id, or a name with --session\n"
     "  --session S          the session, to find the group by name\n"
     "  --title T            its title, one line (required)\n"
     "  --id ID              its id (default: made from the "
     "title)\n" TASK_FIELD_HELP},
    {"task", "import", 0, 1, OPEN_WRITE, 0, cmd_task_import,
     "task import [FILE|-]",
     "Adds the tasks of a JSON array of objects read from FILE or standard\n"
     "input, all or none, and prints their ids, one a line. Keys: session,\n"
     "group, title, and optionally id, status, progress, priority,\n"
     "specialist, description, estimate (hours as a number, or \"4h\"),\n"
     "actual, dependencies (array of ids), deliverables (array of text),\n"
     "current_status. A bad element adds nothing; the message names its\n"
     "index, counted from 0.\n"},
    {"task", "set", 1, 1, OPEN_WRITE,
     TASK_OPTS | B(O_GROUP) | B(O_NO_DEPENDS) | B(O_NO_DELIVERABLES),
     cmd_task_set, "task set ID [options]",
     "Changes fields of a task. --depends and --deliverable replace its\n"
     "lists; an empty --estimate or --actual unsets it.\n"
     "\n"
     "  --title T            its title\n"
     "  --group G            move it to group G (an id, or a name in its\n"
     "                       session)\n" TASK_FIELD_HELP
     "  --no-depends         clear its dependencies\n"
     "  --no-deliverables    clear its deliverables\n"},
    {"task", "show", 1, 1, OPEN_READ, 0, cmd_task_show, "task show ID",
     "Shows every field of a task.\n"},
    {"task", "list", 0, 0, OPEN_READ,
     B(O_SESSION) | B(O_GROUP) | B(O_STATUS) | B(O_DELETED), cmd_task_list,
     "task list [--session S] [--group G] [--status S] [--deleted]",
     "Lists tasks: id, status, progress, priority, group, title.\n"
     "\n"
     "  --session S          of this session (default: all)\n"
     "  --group G            of this group (an id, or a name with "
     "--session)\n"
     "  --status S           of this status\n"
     "  --deleted            include deleted tasks and tasks of deleted "
     "groups\n"},
    {"task", "rm", 1, 1, OPEN_WRITE, 0, cmd_task_rm, "task rm ID",
     "Deletes a task softly; 'task restore' brings it back.\n"},
    {"task", "restore", 1, 1, OPEN_WRITE, 0, cmd_task_restore,
     "task restore ID", "Undoes 'task rm'.\n"},

    {NULL, "conflicts", 0, 0, OPEN_READ, B(O_SESSION) | B(O_ALL), cmd_conflicts,
     "conflicts [--session S] [--all]",
     "Lists the conflicts that saves through the mount left for a person:\n"
     "fields that a file and the database both changed, which the policies\n"
     "of taskfs.yaml did not settle. Columns: id, type, status (open, or\n"
     "manual when a task asks to resolve it), the file (kind:record),\n"
     "field and label. The JSON form has both values (database, file) and\n"
     "their base.\n"
     "\n"
     "  --session S          of this session (default: all)\n"
     "  --all                include resolved conflicts\n"},
    {NULL, "resolve", 1, 1, OPEN_WRITE, B(O_KEEP) | B(O_VALUE), cmd_resolve,
     "resolve ID --keep db|file | --value TEXT",
     "Resolves conflict ID, as ticking an option of its .conflict.md file\n"
     "does: both versions are backed up first, and a task that asks to\n"
     "resolve it is completed. Give exactly one of:\n"
     "\n"
     "  --keep db            keep the database's version\n"
     "  --keep file          take the file's version\n"
     "  --value TEXT         set the field to TEXT, written as in a file\n"
     "                       (60%, 4h, high); exit 4 when TEXT is not valid\n"
     "                       for the field\n"
     "\n"
     "A resolved or unknown ID is exit 3; --keep with another word is 4.\n"},
    {NULL, "backups", 0, 0, OPEN_READ, B(O_SESSION), cmd_backups,
     "backups [--session S]",
     "Lists the backups, newest first: every value a save or a resolution\n"
     "overwrote or did not apply, and whole texts saved with parts that\n"
     "were not kept or discarded with errors. Columns: id, time (UTC),\n"
     "what (kind, record and field of a value; kind and record of a text),\n"
     "size in bytes, reason. The JSON form has the text.\n"
     "\n"
     "  --session S          of this session (default: all)\n"},
    {NULL, "restore-backup", 1, 1, OPEN_WRITE, 0, cmd_restore_backup,
     "restore-backup ID",
     "Brings backup ID back. A value goes back into its field (the value\n"
     "it replaces is backed up first). A whole text is saved to its file\n"
     "again, as a save through the mount would be, settled by the\n"
     "policies of taskfs.yaml beside the database (the defaults when there\n"
     "is none); it prints the number of changes and of new conflicts. A\n"
     "text with errors is not applied: the errors are printed, the text is\n"
     "held at its file as a failed save would be, and the exit status is\n"
     "4.\n"},
    {NULL, "stats", 0, 0, OPEN_READ, B(O_SESSION), cmd_stats,
     "stats [--session S]",
     "Shows the health of the sync between the files of a mount and the\n"
     "database, from the sync log that taskfs keeps in it (every render,\n"
     "save, rename, deletion and resolution): the sync success rate\n"
     "(operations that succeeded, with or without conflicts), the\n"
     "conflict rate (saves and resolutions that met conflicts), render and\n"
     "save times (p50 and p95), failed and held operations by kind of\n"
     "error, the user resolution rate (resolved conflicts of all conflicts\n"
     "recorded), the open conflicts with the .conflict.md file that shows\n"
     "each (its path within the session), and the last errors. --json\n"
     "prints one object with all of it.\n"
     "\n"
     "  --session S          of this session (default: all)\n"},
    {NULL, "log", 0, 0, OPEN_READ, B(O_SESSION) | B(O_LIMIT), cmd_log,
     "log [--session S] [--limit N]",
     "Lists the edits applied to the database through a mount, newest\n"
     "first: one line per changed field with the revision, the time (UTC),\n"
     "the record, the field and its old and new value (cut to one short\n"
     "line; --json has them whole). A record created or removed shows\n"
     "(created) or (removed) as its field.\n"
     "\n"
     "  --session S          of this session (default: all)\n"
     "  --limit N            at most N changes (default 50; 0: all)\n"},
    {NULL, "mcp", 0, 0, OPEN_WRITE, 0, cmd_mcp, "mcp",
     "Serves the database to an AI agent's MCP client (the Model Context\n"
     "Protocol, revision 2025-06-18; 2025-03-26 and 2024-11-05 too) on\n"
     "standard input and output, one JSON-RPC message a line, until the\n"
     "input ends. Tools create, list, show and change sessions, groups and\n"
     "tasks, resolve conflicts, restore backups, and read the sync figures\n"
     "and the edit log; each call is one transaction. Every file of the\n"
     "tree is a resource taskfs:///SESSION/PATH with the bytes a mount\n"
     "shows; a subscribed client is told when one changes, whoever changed\n"
     "it. Changes are recorded in the history with the source\n"
     "mcp:CLIENT, the name the client gives. Messages over 4 MiB are\n"
     "refused. Exit status 0 when the input ends, 1 when the output\n"
     "cannot be written. Configure a client with the command taskctl and\n"
     "the arguments -d DB mcp.\n"},

    {NULL, "checkout", 1, 1, OPEN_NONE, B(O_SESSION), cmd_checkout,
     "checkout [--session S] DIR",
     "Writes the tree of markdown files that a mount of the database shows\n"
     "into the folder DIR (made if missing), byte for byte, for editing\n"
     "without FUSE; 'taskctl sync DIR' then keeps the two in step. The\n"
     "state of the checkout (what was written: revisions, hashes and the\n"
     "texts, the bases of later saves) is kept in DIR/.taskfs, which git\n"
     "ignores. A file already in DIR at a path of the tree with other\n"
     "text is left as it is, for the next sync to save. Exit 4 when DIR\n"
     "is already a checkout.\n"
     "\n"
     "  --session S          only this session, as the folder itself\n"
     "                       (default: every session, one folder each)\n"},
    {NULL, "sync", 1, 1, OPEN_NONE, B(O_WATCH) | B(O_GRACE), cmd_sync,
     "sync [--watch [--grace SECONDS]] DIR",
     "One pass both ways between the checkout DIR and its database. Every\n"
     "file changed, added, renamed or removed in DIR since the last pass is\n"
     "saved as a mount saves it: merged with the database as of the\n"
     "revision in its front matter, with the same conflict files, error\n"
     "files and warnings. Then every file whose records changed in the\n"
     "database is written again, files of records that went away are\n"
     "removed, new ones appear. Other files in DIR are never changed. One\n"
     "line per change; exit 8 when conflict files are open in DIR, 9 when\n"
     "texts are held (an .error.md file says why), 3 when DIR is no\n"
     "checkout, 5 when another taskctl syncs it.\n"
     "\n"
     "  --watch              keep running: a file is saved when its writer\n"
     "                       closes it or renames it into place, the\n"
     "                       database is looked at every 100 ms; stop with\n"
     "                       SIGINT or SIGTERM (exit 0)\n"
     "  --grace SECONDS      how long a removed file of the tree (or an\n"
     "                       emptied one) may take to come back before it\n"
     "                       counts (default 2, as the mount's)\n"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Usage checks that need no database, made before it is opened: a missing
 * option is a usage error (exit 2) even where there is no database. */
static const struct {
  int (*run)(struct ctl *c);
  int (*check)(struct ctl *c);
} usage_checks[] = {
    {cmd_session_create, check_session_create},
    {cmd_session_set, check_session_set},
    {cmd_group_create, check_group_create},
    {cmd_group_set, check_group_set},
    {cmd_task_add, check_task_add},
    {cmd_task_set, check_task_set},
    {cmd_resolve, check_resolve},
    {cmd_restore_backup, check_restore_backup},
    {cmd_log, check_log},
    {cmd_backup, check_backup},
    {cmd_copy, check_copy},
    {cmd_checkout, check_checkout},
    {cmd_sync, check_sync},
};

static const struct {
  const char *name;
  bool arg, multi;
} opt_defs[O_COUNT] = {
    [O_TITLE] = {"title", true, false},
    [O_ID] = {"id", true, false},
    [O_MODE] = {"mode", true, false},
    [O_STATUS] = {"status", true, false},
    [O_DESCRIPTION] = {"description", true, false},
    [O_SESSION] = {"session", true, false},
    [O_NAME] = {"name", true, false},
    [O_PRIORITY] = {"priority", true, false},
    [O_SPECIALIST] = {"specialist", true, false},
    [O_DELETED] = {"deleted", false, false},
    [O_GROUP] = {"group", true, false},
    [O_PROGRESS] = {"progress", true, false},
    [O_ESTIMATE] = {"estimate", true, false},
    [O_ACTUAL] = {"actual", true, false},
    [O_DEPENDS] = {"depends", true, true},
    [O_NO_DEPENDS] = {"no-depends", false, false},
    [O_DELIVERABLE] = {"deliverable", true, true},
    [O_NO_DELIVERABLES] = {"no-deliverables", false, false},
    [O_CURRENT_STATUS] = {"current-status", true, false},
    [O_ALL] = {"all", false, false},
    [O_KEEP] = {"keep", true, false},
    [O_VALUE] = {"value", true, false},
    [O_LIMIT] = {"limit", true, false},
    [O_FORCE] = {"force", false, false},
    [O_LIST] = {"list", false, false},
    [O_WATCH] = {"watch", false, false},
    [O_GRACE] = {"grace", true, false},
    [O_FROM] = {"from", true, false},
    [O_TO] = {"to", true, false},
};

static const char global_help[] =
    "global options (they may also follow the command words):\n"
    "  -d, --db DB             the database; default $TASKFS_DB, else\n"
    "                          " DEFAULT_DB " under the current folder\n"
    "      --json              JSON output; write commands then print the\n"
    "                          record they changed\n"
    "      --busy-timeout MS   how long a locked database is retried (5000)\n"
    "  -h, --help              help, for the command when one is given\n"
    "  -V, --version           print the version\n";

static const char exit_help[] =
    "exit status:\n"
    "  0  success\n"
    "  1  other failure\n"
    "  2  usage error: unknown command or option, missing argument\n"
    "  3  no session, group, task, conflict or backup with that id\n"
    "  4  invalid value, id or name taken, bad JSON input; backup: FILE\n"
    "     exists; restore: FILE is no usable taskfs backup\n"
    "  5  database locked by another program (see --busy-timeout)\n"
    "  6  database missing, not a taskfs database, damaged, or from a newer\n"
    "     taskfs\n"
    "  7  database cannot be written (permissions, read-only, disk full)\n"
    "  8  sync: the pass ran; conflict files are open in the checkout\n"
    "  9  sync: the pass ran; texts are held with an .error.md file beside\n"
    "     them (takes precedence over 8)\n"
    " 10  copy: the target database is not empty\n";

/* The command being run, for usage messages; NULL before it is known.
 * current_group: the group word when only that matched ("task bogus"). */
static const struct command *current;
static const char *current_group;

/* ---- help ---- */

static void print_usage_line(FILE *f, const struct command *cmd) {
  fprintf(f, "usage: taskctl [-d DB] [--json] %s\n", cmd->usage);
}

static void print_overview(FILE *f) {
  fputs("usage: taskctl [-d DB] [--json] COMMAND ...\n"
        "\n"
        "Reads and changes a taskfs task database: sessions, task groups\n"
        "and tasks. The system side of taskfs, for orchestrators and "
        "scripts.\n"
        "\n"
        "commands:\n",
        f);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %s\n", commands[i].usage);
  fputs("\nRead commands accept --json. 'taskctl COMMAND --help' tells "
        "more.\n\n",
        f);
  fputs(global_help, f);
  fputc('\n', f);
  fputs(exit_help, f);
}

static void print_help(const char *group, const struct command *cmd) {
  if (cmd) {
    print_usage_line(stdout, cmd);
    printf("\n%s\n%s\n%s", cmd->help, global_help, exit_help);
    return;
  }
  if (group) {
    printf("usage: taskctl [-d DB] [--json] %s COMMAND ...\n\ncommands:\n",
           group);
    for (size_t i = 0; i < NCOMMANDS; i++)
      if (str_eq(commands[i].group, group))
        printf("  %s\n", commands[i].usage);
    printf("\n'taskctl %s COMMAND --help' tells more.\n", group);
    return;
  }
  print_overview(stdout);
}

/* ---- errors ---- */

int ctl_exit_code(int rc, bool at_open) {
  return rc == ENG_NOTFOUND && at_open ? EXIT_NODB : eng_result(rc)->exit_code;
}

/* Whether the store is open: before, a missing file is a missing
 * database (exit 6), after, a missing record (exit 3). */
static bool store_opened;

int ctl_fail_store(struct ctl *c, int rc) {
  const char *msg = c->st ? store_errmsg(c->st) : "";
  const char *hint = eng_result(rc)->hint;
  fprintf(stderr, "taskctl: %s%s%s\n", *msg ? msg : eng_strerror(rc),
          *hint ? "; " : "", hint);
  return ctl_exit_code(rc, !store_opened);
}

static void vwarn(const char *fmt, va_list ap) {
  fputs("taskctl: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void ctl_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwarn(fmt, ap);
  va_end(ap);
}

int ctl_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwarn(fmt, ap);
  va_end(ap);
  return code;
}

int ctl_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwarn(fmt, ap);
  va_end(ap);
  if (current) {
    print_usage_line(stderr, current);
    fprintf(stderr, "Try 'taskctl %s%s%s --help' for more.\n",
            current->group ? current->group : "", current->group ? " " : "",
            current->name);
  } else if (current_group) {
    fprintf(stderr,
            "usage: taskctl [-d DB] [--json] %s COMMAND ...\n"
            "Try 'taskctl %s --help' for the commands.\n",
            current_group, current_group);
  } else {
    fputs("usage: taskctl [-d DB] [--json] COMMAND ...\n"
          "Try 'taskctl --help' for the commands.\n",
          stderr);
  }
  return EXIT_USAGE;
}

const char *ctl_opt(const struct ctl *c, int o) {
  const struct strlist *l = &c->opt[o];
  return l->n ? l->v[l->n - 1] : NULL;
}

/* ---- the command line ---- */

static const struct command *find_command(const char *group, const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (str_eq(commands[i].group, group) && str_eq(commands[i].name, name))
      return &commands[i];
  return NULL;
}

static bool is_group(const char *word) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (str_eq(commands[i].group, word))
      return true;
  return false;
}

struct cmdline {
  struct strlist words; /* everything that is not an option */
  bool help, version;
  char *error; /* the first usage error, reported after --help is ruled out */
};

static void cmdline_error(struct cmdline *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cmdline_error(struct cmdline *cl, const char *fmt, ...) {
  if (cl->error)
    return;
  va_list ap;
  va_start(ap, fmt);
  struct buf b = BUF_INIT;
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  cl->error = buf_detach(&b, NULL);
}

static int find_opt(const char *name, size_t len) {
  for (int i = 0; i < O_COUNT; i++)
    if (strlen(opt_defs[i].name) == len &&
        strncmp(opt_defs[i].name, name, len) == 0)
      return i;
  return -1;
}

static bool parse_ms(const char *s, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > 3600000)
    return false;
  *out = (int)v;
  return true;
}

/*
 * Splits argv into global options (into c), command options (into c->opt)
 * and words. Options may come before or after the command words; "--"
 * ends them. Whether the command accepts an option is checked later, once
 * the words name it.
 */
static void parse_argv(int argc, char **argv, struct ctl *c,
                       struct cmdline *cl) {
  bool options = true;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!options || a[0] != '-' || strcmp(a, "-") == 0) {
      strlist_add(&cl->words, a);
      continue;
    }
    if (strcmp(a, "--") == 0) {
      options = false;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      cl->help = true;
      continue;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
      cl->version = true;
      continue;
    }
    if (strcmp(a, "--json") == 0) {
      c->json = true;
      continue;
    }
    /* -d DB, -dDB, --db DB, --db=DB */
    if (str_starts(a, "-d")) {
      if (a[2])
        c->db_path = a + 2;
      else if (i + 1 < argc)
        c->db_path = argv[++i];
      else
        cmdline_error(cl, "option -d needs a database path");
      c->db_default = false;
      continue;
    }
    if (!str_starts(a, "--")) {
      cmdline_error(cl, "unknown option '%s'", a);
      continue;
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const char *value = eq ? eq + 1 : NULL;
    bool is_db = len == 2 && strncmp(name, "db", 2) == 0;
    bool is_busy = len == 12 && strncmp(name, "busy-timeout", 12) == 0;
    int o = find_opt(name, len);
    if (!is_db && !is_busy && o < 0) {
      cmdline_error(cl, "unknown option '%s'", a);
      continue;
    }
    bool takes_arg = is_db || is_busy || opt_defs[o].arg;
    if (!takes_arg && value) {
      cmdline_error(cl, "option --%s takes no value", opt_defs[o].name);
      continue;
    }
    if (takes_arg && !value) {
      if (i + 1 >= argc) {
        cmdline_error(cl, "option --%.*s needs a value", (int)len, name);
        continue;
      }
      value = argv[++i];
    }
    if (is_db) {
      c->db_path = value;
      c->db_default = false;
    } else if (is_busy) {
      if (!parse_ms(value, &c->busy_ms))
        cmdline_error(cl,
                      "--busy-timeout needs milliseconds (0-3600000), "
                      "not '%s'",
                      value);
    } else {
      if (c->has[o] && !opt_defs[o].multi)
        cmdline_error(cl, "option --%s is given twice", opt_defs[o].name);
      c->has[o] = true;
      if (value)
        strlist_add(&c->opt[o], value);
    }
  }
}

/* The command the words name, and how many words that took; NULL with
 * *group set when only a group word matched. */
static const struct command *match_words(const struct strlist *w,
                                         const char **group, size_t *used) {
  *group = NULL;
  *used = 0;
  if (w->n == 0)
    return NULL;
  const struct command *cmd = find_command(NULL, w->v[0]);
  if (cmd) {
    *used = 1;
    return cmd;
  }
  if (!is_group(w->v[0]))
    return NULL;
  *group = w->v[0];
  *used = 1;
  if (w->n < 2)
    return NULL;
  cmd = find_command(w->v[0], w->v[1]);
  if (cmd)
    *used = 2;
  return cmd;
}

/* Checks that the options given are the command's, and that every string
 * is valid UTF-8 (records are shown as UTF-8 text). */
static int check_options(const struct command *cmd, struct ctl *c) {
  for (int o = 0; o < O_COUNT; o++) {
    if (!c->has[o])
      continue;
    if (!(cmd->opts & OPT_BIT(o)))
      return ctl_usage_error(
          "'%s%s%s' has no option --%s", cmd->group ? cmd->group : "",
          cmd->group ? " " : "", cmd->name, opt_defs[o].name);
    for (size_t i = 0; i < c->opt[o].n; i++)
      if (!utf8_valid(c->opt[o].v[i], strlen(c->opt[o].v[i])))
        return ctl_fail(EXIT_INVALID, "the value of --%s is not valid UTF-8",
                        opt_defs[o].name);
  }
  for (size_t i = 0; i < c->npos; i++)
    if (!utf8_valid(c->pos[i], strlen(c->pos[i])))
      return ctl_fail(EXIT_INVALID, "argument '%s' is not valid UTF-8",
                      c->pos[i]);
  return 0;
}

static int check_usage(const struct command *cmd, struct ctl *c) {
  for (size_t i = 0; i < sizeof usage_checks / sizeof usage_checks[0]; i++)
    if (usage_checks[i].run == cmd->run)
      return usage_checks[i].check(c);
  return 0;
}

/* Creates the default folder: the one path taskctl makes on its own. */
static int make_default_dir(void) {
  if (mkdir(DEFAULT_DIR, 0777) == 0 || errno == EEXIST)
    return 0;
  int e = errno;
  return ctl_fail(e == EACCES || e == EPERM || e == EROFS || e == ENOSPC
                      ? EXIT_RDONLY
                      : EXIT_FAIL,
                  "cannot create folder %s: %s", DEFAULT_DIR, strerror(e));
}

/* Whether SQLite's failure to open path is a permission problem: of the
 * file, or of its folder, where SQLite keeps the -wal and -shm files. */
static bool open_denied(const char *path) {
  char *copy = xstrdup(path);
  int r = access(path, F_OK) == 0 ? access(path, R_OK | W_OK) : 0;
  if (r == 0)
    r = access(dirname(copy), W_OK);
  bool denied = r != 0 && (errno == EACCES || errno == EPERM || errno == EROFS);
  free(copy);
  return denied;
}

int ctl_open(struct ctl *c, enum open_mode mode) {
  int rc;
  if (mode == OPEN_CREATE && c->db_default && (rc = make_default_dir()))
    return rc;
  rc = store_open(c->db_path, mode == OPEN_CREATE ? STORE_CREATE : 0, &c->st);
  /* SQLite says "unable to open" (ENG_NOTFOUND) for a file that exists
   * but cannot be opened for writing, as on a read-only mount. */
  bool present = access(c->db_path, F_OK) == 0;
  if (mode == OPEN_READ &&
      (rc == ENG_READONLY || (rc == ENG_NOTFOUND && present))) {
    /* A file we may not write can still be read. */
    store_close(c->st);
    rc = store_open(c->db_path, STORE_READONLY, &c->st);
  }
  if (rc == ENG_NOTFOUND && (present || mode == OPEN_CREATE) &&
      open_denied(c->db_path))
    return ctl_fail(ctl_exit_code(ENG_READONLY, true),
                    "database %s cannot be %s: SQLite must write it or the "
                    "-wal and -shm files beside it (%s); check the "
                    "permissions of the file and its folder",
                    c->db_path, mode == OPEN_READ ? "read" : "written",
                    store_errmsg(c->st));
  if (rc)
    return ctl_fail_store(c, rc);
  store_opened = true;
  if (store_upgrade_backup(c->st))
    fprintf(stderr,
            "taskctl: upgraded the schema of database %s; the file as it "
            "was is saved as %s\n",
            store_path(c->st), store_upgrade_backup(c->st));
  store_set_source(c->st, "taskctl");
  store_set_busy_ms(c->st, c->busy_ms);
  ops_release(&c->ops);
  ops_init(&c->ops, c->st, c->db_path, ctl_hint);
  return 0;
}

static void ctl_release(struct ctl *c, struct cmdline *cl) {
  ops_release(&c->ops);
  store_close(c->st);
  free(c->db_alloc);
  for (int o = 0; o < O_COUNT; o++)
    strlist_clear(&c->opt[o]);
  strlist_clear(&cl->words);
  free(cl->error);
}

int main(int argc, char **argv) {
  struct ctl c;
  struct cmdline cl;
  memset(&c, 0, sizeof c);
  memset(&cl, 0, sizeof cl);
  c.busy_ms = 5000;
  /* ps and /proc/PID/cmdline show no password of a server's database. */
  store_hide_passwords(argc, argv);
  c.db_path = getenv("TASKFS_DB");
  if (!c.db_path || !*c.db_path) {
    c.db_path = DEFAULT_DB;
    c.db_default = true;
  }
  json_setup();
  parse_argv(argc, argv, &c, &cl);

  const char *group;
  size_t used;
  const struct command *cmd = match_words(&cl.words, &group, &used);
  current = cmd;
  current_group = group;
  int code = EXIT_OK;
  if (cl.help) {
    print_help(group, cmd);
    goto out;
  }
  if (cl.version) {
    printf("taskctl %s\n", TASKFS_VERSION);
    goto out;
  }
  if (cl.error) {
    code = ctl_usage_error("%s", cl.error);
    goto out;
  }
  if (!cmd) {
    if (cl.words.n == 0)
      code = ctl_usage_error("no command given");
    else if (group && cl.words.n == 1)
      code = ctl_usage_error("'%s' needs a command", group);
    else if (group)
      code = ctl_usage_error("unknown command '%s %s'", group, cl.words.v[1]);
    else
      code = ctl_usage_error("unknown command '%s'", cl.words.v[0]);
    goto out;
  }
  c.pos = (const char **)cl.words.v + used;
  c.npos = cl.words.n - used;
  if (c.npos < cmd->min_pos) {
    code = ctl_usage_error("'%s%s%s' needs %s", cmd->group ? cmd->group : "",
                           cmd->group ? " " : "", cmd->name,
                           strstr(cmd->usage, " DIR")    ? "a folder (DIR)"
                           : strstr(cmd->usage, " FILE") ? "a FILE"
                                                         : "an ID");
    goto out;
  }
  if (c.npos > cmd->max_pos) {
    code = ctl_usage_error("unexpected argument '%s'", c.pos[cmd->max_pos]);
    goto out;
  }
  if ((code = check_options(cmd, &c)) || (code = check_usage(cmd, &c)) ||
      (cmd->open != OPEN_NONE && (code = ctl_open(&c, cmd->open))))
    goto out;
  code = cmd->run(&c);
out:
  if (fflush(stdout) != 0 && code == EXIT_OK)
    code = ctl_fail(EXIT_FAIL, "cannot write the output: %s", strerror(errno));
  ctl_release(&c, &cl);
  return code;
}
