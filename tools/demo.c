/* SPDX-License-Identifier: MIT */
/* demo.c: the demo session of 'taskctl demo', modeled on the task
 * orchestrator's "Advanced Analytics Dashboard" example: four groups,
 * 35 tasks in every status, notes and insights. Data only, plus the code
 * that inserts it through the store. */
#include "names.h"
#include "taskctl.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EMOJI_NOTES "\xf0\x9f\x93\x9d"        /* 📝 */
#define EMOJI_INSIGHTS "\xf0\x9f\x92\xa1"     /* 💡 */
#define EMOJI_WARN "\xe2\x9a\xa0\xef\xb8\x8f" /* ⚠️ */

#define P STATUS_PLANNED
#define A STATUS_ACTIVE
#define X STATUS_BLOCKED
#define C STATUS_COMPLETED
#define LOW PRIORITY_LOW
#define MED PRIORITY_MEDIUM
#define HIGH PRIORITY_HIGH
#define CRIT PRIORITY_CRITICAL

struct demo_group {
  const char *name, *title, *specialist;
  int priority, status;
  const char *description, *notes;
};

static const struct demo_group groups[] = {
    {"frontend", "Frontend Development", "implementer, reviewer", HIGH, A,
     "React + TypeScript single-page application: the dashboard shell, "
     "authentication screens, interactive charts and live widgets.",
     "\n### Technical Decisions\n\n"
     "- Server data in React Query, UI state in Zustand; no Redux.\n"
     "- Components are tested with Testing Library, not snapshots.\n"
     "\n### Open Questions\n\n"
     "- Does the mobile layout need offline support?\n"},
    {"backend", "Backend API", "architect, implementer", HIGH, A,
     "REST and WebSocket API in Node.js (Fastify) over PostgreSQL, with "
     "caching and role-based access.",
     "\n### Technical Decisions\n\n"
     "- Request and response schemas are generated from the OpenAPI "
     "contract.\n"
     "- Times are stored as UTC `timestamptz`; clients convert for "
     "display.\n"
     "\n### Open Questions\n\n"
     "- Partition the events table by month now, or at 100 million rows?\n"},
    {"testing", "Testing & QA", "tester, reviewer", MED, A,
     "Unit, integration, end-to-end and performance tests, and the release "
     "checklist.",
     "\n### Technical Decisions\n\n"
     "- Playwright for end-to-end tests, run against staging on every merge "
     "to main.\n"
     "- Integration tests use a seeded fixture database, rebuilt per run.\n"
     "\n### Coverage Targets\n\n"
     "- 80% of lines in backend services, 70% in frontend components.\n"},
    {"documentation", "Documentation", "documenter", LOW, P,
     "API reference, user guide and the deployment runbook.",
     "\n### Technical Decisions\n\n"
     "- Docs live in the repository as markdown, published with MkDocs.\n"
     "- The API reference is generated from the OpenAPI contract, with "
     "hand-written guides around it.\n"},
};
#define NGROUPS (sizeof groups / sizeof groups[0])

/* A task; key is its id without the "_NNN" suffix, and dependencies name
 * other tasks by key. Effort NAN: not set. */
struct demo_task {
  const char *key, *group, *title;
  int status, progress, priority;
  const char *specialist;
  double estimate, actual;
  const char *deps[3], *deliverables[4];
  const char *current_status, *description;
};

static const struct demo_task tasks[] = {
    /* ---- frontend ---- */
    {"project_setup",
     "frontend",
     "Set up React + TypeScript project",
     C,
     100,
     HIGH,
     "implementer",
     3,
     2.5,
     {NULL},
     {"package.json and tsconfig.json (strict mode)",
      "ESLint and Prettier configuration", "CI job that builds and lints"},
     NULL,
     "Create the Vite project with TypeScript in strict mode, path aliases, "
     "linting and a CI job that builds every push."},
    {"design_system",
     "frontend",
     "Build the design system components",
     C,
     100,
     MED,
     "implementer",
     8,
     10,
     {"project_setup"},
     {"Button, Input, Select and Modal components",
      "Theme tokens for colors, spacing and typography", "Storybook stories"},
     NULL,
     "Shared components and theme tokens so that every screen looks the "
     "same, with dark mode from the start."},
    {"error_states",
     "frontend",
     "Design empty, loading and error states",
     C,
     100,
     LOW,
     "implementer",
     3,
     3,
     {"design_system"},
     {"Skeleton loaders", "Empty-state illustrations", "Error boundary"},
     NULL,
     "Every widget shows a skeleton while loading, a friendly message when "
     "there is no data, and a retry button on errors."},
    {"dashboard_layout",
     "frontend",
     "Create dashboard layout",
     A,
     60,
     HIGH,
     "implementer",
     6,
     4,
     {"design_system"},
     {"Responsive widget grid", "Collapsible sidebar navigation",
      "Header with user menu"},
     "Grid and sidebar are done; the header's user menu is in review.",
     "The shell of the dashboard: a resizable widget grid, sidebar "
     "navigation and a header with the user menu.\n\nWidths from 360 px "
     "(phones) to 2560 px (wall displays)."},
    {"auth_components",
     "frontend",
     "Implement authentication components",
     A,
     40,
     HIGH,
     "implementer",
     8,
     3.5,
     {"design_system", "auth_api"},
     {"Login and logout forms", "Password reset flow",
      "Protected route wrapper"},
     "The login form works against the mock API; switching to the real "
     "token endpoint next.",
     "Login, logout and password reset screens, token refresh in the API "
     "client, and a wrapper that sends anonymous users to the login page."},
    {"chart_components",
     "frontend",
     "Build interactive chart components",
     A,
     25,
     HIGH,
     "implementer",
     12,
     3,
     {"dashboard_layout"},
     {"Line, bar and pie charts", "Zoom and tooltip interactions",
      "Export of a chart to PNG and CSV"},
     "The line chart is done with Recharts; the bar chart is started.",
     "Chart widgets over the metrics API, sharing one tooltip and legend "
     "style, responsive to their grid cell."},
    {"frontend_code_review",
     "frontend",
     "Review frontend pull requests",
     A,
     50,
     MED,
     "reviewer",
     6,
     3,
     {NULL},
     {"Review notes on each pull request"},
     "Layout and design system reviewed; authentication components next.",
     "Review every frontend pull request for correctness, accessibility and "
     "consistency with the design system."},
    {"realtime_widgets",
     "frontend",
     "Add real-time metric widgets",
     X,
     10,
     MED,
     "implementer",
     6,
     1,
     {"chart_components", "websocket_server"},
     {"Live KPI cards", "Auto-refreshing activity feed"},
     "Blocked: needs the WebSocket server of the backend group.",
     "KPI cards and an activity feed that update as events arrive, falling "
     "back to polling when the socket drops."},
    {"filter_panel",
     "frontend",
     "Create date range and segment filters",
     P,
     0,
     MED,
     "implementer",
     5,
     NAN,
     {"dashboard_layout"},
     {"Date range picker", "Segment multi-select", "Filters kept in the URL"},
     NULL,
     "Filters that apply to every widget of a dashboard and survive a page "
     "reload."},
    {"user_settings",
     "frontend",
     "Build user settings page",
     P,
     0,
     LOW,
     "implementer",
     4,
     NAN,
     {NULL},
     {"Profile form", "Notification preferences"},
     NULL,
     "Profile, password change and e-mail notification preferences."},
    {"accessibility_review",
     "frontend",
     "Review accessibility of the dashboard",
     P,
     0,
     MED,
     "reviewer",
     3,
     NAN,
     {"dashboard_layout", "chart_components"},
     {"WCAG 2.1 AA checklist", "Fixes for keyboard navigation"},
     NULL,
     "Check contrast, focus order, screen reader labels and keyboard use "
     "of every screen against WCAG 2.1 AA."},

    /* ---- backend ---- */
    {"api_architecture",
     "backend",
     "Design the API architecture",
     C,
     100,
     CRIT,
     "architect",
     6,
     7,
     {NULL},
     {"docs/architecture.md", "OpenAPI 3 contract skeleton",
      "Error format decision (RFC 7807)"},
     NULL,
     "Service boundaries, the REST contract, error format, authentication "
     "scheme and the plan for live updates."},
    {"database_schema",
     "backend",
     "Design the PostgreSQL schema",
     C,
     100,
     HIGH,
     "architect",
     5,
     4.5,
     {"api_architecture"},
     {"Migrations for users, events and metrics", "Index plan"},
     NULL,
     "Tables for users, raw events and daily metric aggregates, with the "
     "indexes the dashboard queries need."},
    {"data_ingestion",
     "backend",
     "Build event ingestion pipeline",
     C,
     100,
     HIGH,
     "implementer",
     10,
     12,
     {"database_schema"},
     {"POST /events batch endpoint", "Validation and deduplication",
      "Nightly aggregation job"},
     NULL,
     "Accept batches of product events, drop duplicates, and aggregate them "
     "nightly into metrics_daily."},
    {"auth_api",
     "backend",
     "Implement authentication API",
     A,
     70,
     CRIT,
     "implementer",
     10,
     8,
     {"database_schema"},
     {"POST /auth/login, /auth/refresh and /auth/logout",
      "JWT signing with key rotation", "Rate limiting on login"},
     "Login and refresh endpoints are done; key rotation is in progress.",
     "Token-based authentication: short-lived access tokens, rotating "
     "refresh tokens in HttpOnly cookies, and lockout after repeated "
     "failures."},
    {"metrics_endpoints",
     "backend",
     "Build metrics query endpoints",
     A,
     45,
     HIGH,
     "implementer",
     12,
     6,
     {"database_schema"},
     {"GET /metrics/summary", "GET /metrics/timeseries with grouping",
      "Pagination and filters"},
     "The summary endpoint is done; weekly grouping of time series needs a "
     "query plan review.",
     "Read endpoints for the dashboard's widgets, answering from the daily "
     "aggregates where they can."},
    {"websocket_server",
     "backend",
     "Implement WebSocket server for live updates",
     X,
     20,
     HIGH,
     "implementer",
     8,
     2,
     {"auth_api"},
     {"Live channel per dashboard", "Authenticated subscriptions",
      "Backpressure handling"},
     "Blocked: the load balancer does not pass WebSocket upgrades yet "
     "(infrastructure ticket OPS-142).",
     "Push new events and metric changes to subscribed dashboards, "
     "authenticated with the same tokens as the REST API."},
    {"api_security_review",
     "backend",
     "Review API security",
     X,
     0,
     CRIT,
     "reviewer",
     4,
     NAN,
     {"auth_api", "rbac"},
     {"Threat model", "Findings with fixes"},
     "Waiting for the access control design before the review can start.",
     "Review authentication, authorization, input validation and rate "
     "limits against the OWASP API Security Top 10."},
    {"caching_layer",
     "backend",
     "Add Redis caching for heavy queries",
     P,
     0,
     MED,
     "implementer",
     6,
     NAN,
     {"metrics_endpoints"},
     {"Cache-aside helper", "Invalidation on new events"},
     NULL,
     "Cache the slowest metrics queries for a minute, and drop entries when "
     "new events arrive for their range."},
    {"rbac",
     "backend",
     "Add role-based access control",
     P,
     0,
     HIGH,
     "architect",
     5,
     NAN,
     {"auth_api"},
     {"Roles viewer, analyst and admin", "Permission check middleware"},
     NULL,
     "Who may see which dashboards and export data; enforced in one "
     "middleware, not per route."},
    {"export_api",
     "backend",
     "Implement CSV and PDF report export",
     P,
     0,
     LOW,
     "implementer",
     6,
     NAN,
     {"metrics_endpoints"},
     {"GET /reports/{id}.csv", "GET /reports/{id}.pdf"},
     NULL,
     "Scheduled and on-demand exports of a dashboard's data."},

    /* ---- testing ---- */
    {"test_strategy",
     "testing",
     "Write the test strategy",
     C,
     100,
     MED,
     "tester",
     3,
     3,
     {NULL},
     {"docs/testing.md", "Coverage targets per layer"},
     NULL,
     "What is tested where: unit, integration, end-to-end and performance, "
     "and who owns each."},
    {"unit_test_setup",
     "testing",
     "Set up unit test framework",
     C,
     100,
     MED,
     "tester",
     2,
     1.5,
     {"project_setup"},
     {"Vitest and Testing Library configuration", "Coverage report in CI"},
     NULL,
     "Unit tests run in CI with a coverage report on every pull request."},
    {"api_integration_tests",
     "testing",
     "Write API integration tests",
     A,
     35,
     HIGH,
     "tester",
     10,
     4,
     {"auth_api", "metrics_endpoints"},
     {"Tests for every endpoint", "Seeded fixture database"},
     "Authentication tests pass; metrics tests need seeded fixtures.",
     "Exercise every endpoint against a real PostgreSQL, including error "
     "responses and permission checks."},
    {"auth_flow_tests",
     "testing",
     "Test the authentication flow end to end",
     P,
     0,
     HIGH,
     "tester",
     5,
     NAN,
     {"auth_components", "auth_api"},
     {"Playwright tests for login, refresh and logout"},
     NULL,
     "Login, token refresh after expiry, logout on every tab, and lockout "
     "after repeated failures."},
    {"e2e_tests",
     "testing",
     "Write end-to-end tests with Playwright",
     P,
     0,
     MED,
     "tester",
     12,
     NAN,
     {"dashboard_layout", "chart_components"},
     {"Playwright suite for the main user journeys"},
     NULL,
     "The main journeys: sign in, open a dashboard, filter, drill into a "
     "chart, export."},
    {"performance_tests",
     "testing",
     "Load test the metrics API",
     X,
     0,
     MED,
     "tester",
     6,
     NAN,
     {"metrics_endpoints", "caching_layer"},
     {"k6 scripts", "Report with p50/p95 latencies"},
     "Blocked: needs the staging database with production-sized data.",
     "Find the request rate at which p95 latency exceeds 300 ms, before and "
     "after caching."},
    {"visual_regression",
     "testing",
     "Set up visual regression tests",
     P,
     0,
     LOW,
     "tester",
     4,
     NAN,
     {"design_system"},
     {"Screenshot baseline of the Storybook stories"},
     NULL,
     "Catch unintended visual changes in the design system components."},
    {"accessibility_tests",
     "testing",
     "Automate accessibility checks with axe",
     P,
     0,
     MED,
     "tester",
     3,
     NAN,
     {"accessibility_review"},
     {"axe checks in the end-to-end suite"},
     NULL,
     "Run axe on every page in CI so that fixed issues stay fixed."},
    {"test_review",
     "testing",
     "Review test coverage",
     P,
     0,
     MED,
     "reviewer",
     2,
     NAN,
     {"api_integration_tests"},
     {"Coverage review notes"},
     NULL,
     "Check coverage against the targets of the test strategy before the "
     "release."},

    /* ---- documentation ---- */
    {"architecture_overview",
     "documentation",
     "Document the architecture overview",
     C,
     100,
     LOW,
     "documenter",
     3,
     2,
     {"api_architecture"},
     {"docs/overview.md with diagrams"},
     NULL,
     "A one-page overview of the services and data flow for new team "
     "members."},
    {"api_reference",
     "documentation",
     "Write the API reference",
     A,
     30,
     MED,
     "documenter",
     6,
     2,
     {"api_architecture"},
     {"Generated endpoint reference", "Authentication guide"},
     "Authentication endpoints are documented; metrics endpoints follow once "
     "they settle.",
     "Reference for every endpoint, generated from the OpenAPI contract, "
     "with examples in curl and TypeScript."},
    {"user_guide",
     "documentation",
     "Write the user guide",
     P,
     0,
     LOW,
     "documenter",
     8,
     NAN,
     {"dashboard_layout", "chart_components"},
     {"Getting started", "Building a dashboard", "Sharing and export"},
     NULL,
     "A guide for analysts, with screenshots of the finished screens."},
    {"deployment_runbook",
     "documentation",
     "Write the deployment runbook",
     P,
     0,
     MED,
     "documenter",
     4,
     NAN,
     {"websocket_server"},
     {"Deploy, rollback and incident steps"},
     NULL,
     "How to deploy, roll back and recover, including the load balancer "
     "rules for WebSocket upgrades."},
    {"changelog_setup",
     "documentation",
     "Set up changelog and release notes",
     P,
     0,
     LOW,
     "documenter",
     1.5,
     NAN,
     {NULL},
     {"CHANGELOG.md", "Release notes template"},
     NULL,
     "Keep a changelog from the first release on."},
};
#define NTASKS (sizeof tasks / sizeof tasks[0])

/* Session sections: the notes files, then those shown in session.md. A
 * section followed by another one shown in the same file ends in a blank
 * line. */
static const struct {
  const char *key, *heading, *body;
} session_sections[] = {
    {"notes/decisions", "",
     "\n"
     "- **Technology stack**: React 18 + TypeScript on the frontend, Node.js "
     "(Fastify) + PostgreSQL 15 on the backend: the team knows them, and "
     "types run end to end.\n"
     "- **Charts**: Recharts rather than D3 directly; enough for line, bar "
     "and pie charts with far less code. Revisit for custom "
     "visualisations.\n"
     "- **Authentication**: JWT access tokens of 15 minutes with rotating "
     "refresh tokens in HttpOnly cookies.\n"
     "- **Live updates**: one WebSocket channel per dashboard, falling back "
     "to polling every 30 s when the socket drops.\n"
     "- **API style**: REST with an OpenAPI 3 contract; errors as RFC 7807 "
     "problem details.\n"},
    {"notes/learnings", "",
     "\n"
     "- Aggregating events nightly into `metrics_daily` made the summary "
     "endpoint 40x faster than querying raw events.\n"
     "- Recharts re-renders every chart on any state change: memoise the "
     "data arrays, or the dashboard stutters above ten widgets.\n"
     "- The load balancer needs explicit WebSocket upgrade rules; plan "
     "infrastructure changes a sprint ahead.\n"
     "- Writing the OpenAPI contract first let the frontend build against a "
     "mock server in parallel.\n"},
    {"notes/resources", "",
     "\n"
     "- [React documentation](https://react.dev/)\n"
     "- [Recharts examples](https://recharts.org/en-US/examples)\n"
     "- [Fastify WebSocket plugin]"
     "(https://github.com/fastify/fastify-websocket)\n"
     "- [PostgreSQL index types]"
     "(https://www.postgresql.org/docs/current/indexes-types.html)\n"
     "- [OWASP Authentication Cheat Sheet]"
     "(https://cheatsheetseries.owasp.org/cheatsheets/"
     "Authentication_Cheat_Sheet.html)\n"
     "- Design mockups: `design/dashboard-v3.fig`\n"},
    {NULL, "## " EMOJI_INSIGHTS " Key Insights",
     "\n"
     "- The WebSocket server is on the critical path: live widgets, the "
     "runbook and the load tests all wait for it.\n"
     "- Frontend and backend share the authentication work; finishing "
     "`auth_api` unblocks four tasks.\n"
     "- Completed tasks took about 15% longer than estimated; estimates of "
     "the remaining work were raised accordingly.\n"
     "\n"},
    {NULL, "## " EMOJI_WARN " Risks & Mitigation",
     "\n"
     "- **WebSocket support in the load balancer** (high): ticket OPS-142 is "
     "open; polling every 30 s is the fallback.\n"
     "- **Query speed on production-sized data** (medium): nightly "
     "aggregates and Redis caching; load tests before the release.\n"
     "- **Scope creep in chart features** (medium): custom charts and "
     "scheduled exports move to the next session.\n"},
};
#define NSECTIONS (sizeof session_sections / sizeof session_sections[0])

static int add_section(struct store *st, int kind, const char *owner,
                       const char *key, const char *heading, const char *body,
                       double position) {
  struct section x;
  section_init(&x);
  x.owner_kind = kind;
  x.owner_id = xstrdup(owner);
  if (key) {
    x.key = xstrdup(key);
  } else {
    struct buf b = BUF_INIT;
    section_key(heading, &b);
    x.key = buf_detach(&b, NULL);
  }
  x.heading = xstrdup(heading);
  x.body = xstrdup(body);
  x.position = position;
  int rc = store_section_insert(st, &x);
  section_release(&x);
  return rc;
}

/* The first free "<key>_NNN" task id, so that the demo loads again into
 * the same database with ids of the same form; NULL when none is free
 * (the store then makes one from the title). */
static int free_task_id(struct store *st, const char *key, char **out) {
  *out = NULL;
  for (int n = 1; n < 100000; n++) {
    char *id = xasprintf("%s_%03d", key, n);
    bool taken;
    int rc = store_task_exists(st, id, &taken);
    if (rc == ENG_OK && !taken) {
      *out = id;
      return ENG_OK;
    }
    free(id);
    if (rc)
      return rc;
  }
  return ENG_OK;
}

static const char *id_of(const char *key, char *const *ids) {
  for (size_t i = 0; i < NTASKS; i++)
    if (strcmp(tasks[i].key, key) == 0)
      return ids[i];
  die("demo: no task '%s'", key);
}

/* Inserts d as a planned task: work on it is recorded afterwards by
 * advance_task, so that the history and the session's activity list show
 * tasks being started, completed and blocked. */
static int insert_task(struct store *st, const struct demo_task *d,
                       const char *id, const char *group_id, char *const *ids) {
  struct task t;
  task_init(&t);
  t.id = xstrdup(id);
  t.group_id = xstrdup(group_id);
  t.title = xstrdup(d->title);
  t.description = xstrdup(d->description);
  t.specialist = xstrdup(d->specialist);
  t.priority = d->priority;
  t.estimate = d->estimate;
  for (size_t k = 0; k < 3 && d->deps[k]; k++) {
    const char *dep = id_of(d->deps[k], ids);
    if (dep)
      strlist_add(&t.dependencies, dep);
  }
  for (size_t k = 0; k < 4 && d->deliverables[k]; k++)
    strlist_add(&t.deliverables, d->deliverables[k]);
  int rc = store_task_insert(st, &t);
  task_release(&t);
  return rc;
}

static int advance_task(struct store *st, const struct demo_task *d,
                        const char *id) {
  struct task t;
  task_init(&t);
  int rc = store_task_get(st, id, &t);
  if (rc == ENG_OK) {
    task_set_status(&t, d->status);
    t.progress = d->progress;
    t.actual = d->actual;
    str_set(&t.current_status, d->current_status);
    rc = store_task_update(st, &t);
  }
  task_release(&t);
  return rc;
}

int demo_load(struct store *st, char **session_id) {
  char *group_ids[NGROUPS] = {NULL};
  char *ids[NTASKS] = {NULL};
  struct session s;
  session_init(&s);
  s.title = xstrdup("Advanced Analytics Dashboard");
  s.mode = xstrdup("development_roles.yaml");
  s.status = xstrdup("active");
  s.description = xstrdup(
      "A real-time analytics dashboard for product and sales metrics: "
      "authentication, interactive charts, a REST and WebSocket API over "
      "PostgreSQL, tests and user documentation.");
  int rc = store_session_insert(st, &s);
  if (rc)
    goto out;

  for (size_t i = 0; i < NGROUPS && !rc; i++) {
    const struct demo_group *d = &groups[i];
    struct group g;
    group_init(&g);
    g.session_id = xstrdup(s.id);
    g.name = xstrdup(d->name);
    g.title = xstrdup(d->title);
    g.specialist = xstrdup(d->specialist);
    g.description = xstrdup(d->description);
    g.priority = d->priority;
    g.status = d->status;
    /* A NULL id becomes "<name>_group_NNN", the first one free. */
    rc = store_group_insert(st, &g);
    if (!rc) {
      group_ids[i] = xstrdup(g.id);
      rc = add_section(st, OWNER_GROUP, g.id, NULL, "## " EMOJI_NOTES " Notes",
                       d->notes, 1);
    }
    group_release(&g);
  }

  /* Every id first: a task may depend on one listed after it. */
  for (size_t i = 0; i < NTASKS && !rc; i++)
    rc = free_task_id(st, tasks[i].key, &ids[i]);
  for (size_t i = 0; i < NTASKS && !rc; i++) {
    const char *group_id = NULL;
    for (size_t k = 0; k < NGROUPS; k++)
      if (strcmp(groups[k].name, tasks[i].group) == 0)
        group_id = group_ids[k];
    rc = insert_task(st, &tasks[i], ids[i], group_id, ids);
  }
  /* Work done: finished tasks first, then those under way, then the
   * blocked ones, as a project would see them happen. */
  static const int order[] = {STATUS_COMPLETED, STATUS_ACTIVE, STATUS_BLOCKED};
  for (size_t k = 0; k < 3 && !rc; k++)
    for (size_t i = 0; i < NTASKS && !rc; i++)
      if (tasks[i].status == order[k])
        rc = advance_task(st, &tasks[i], ids[i]);

  /* Each notes section is alone in its file; the others are numbered in
   * the order session.md shows them. */
  double position = 0;
  for (size_t i = 0; i < NSECTIONS && !rc; i++) {
    const char *key = session_sections[i].key;
    rc = add_section(st, OWNER_SESSION, s.id, key, session_sections[i].heading,
                     session_sections[i].body, key ? 1 : ++position);
  }
  if (!rc) {
    *session_id = s.id;
    s.id = NULL;
  }
out:
  for (size_t i = 0; i < NGROUPS; i++)
    free(group_ids[i]);
  for (size_t i = 0; i < NTASKS; i++)
    free(ids[i]);
  session_release(&s);
  return rc;
}

static int load(struct ops *o, void *arg) {
  int rc = demo_load(o->st, arg);
  return rc ? ops_fail_store(o, rc) : ENG_OK;
}

int cmd_demo(struct ctl *c) {
  char *id = NULL;
  int rc = ops_write(&c->ops, load, &id);
  int code = rc ? ctl_fail_ops(c, rc) : ctl_print_result(c, OWNER_SESSION, id);
  free(id);
  return code;
}
