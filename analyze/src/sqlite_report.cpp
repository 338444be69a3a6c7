// `sqlite`: the model as an SQLite database (processes, execs, events, gaps),
// written to FILE.partial in one transaction with prepared statements, then
// renamed over FILE. Schema: docs/analyze.md.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>

#include "proctape/analyze/report.h"
#include "text.h"

namespace proctape::analyze {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE processes (
  trace INTEGER NOT NULL, host TEXT, id INTEGER NOT NULL, pid INTEGER NOT NULL,
  parent_id INTEGER, parent_pid INTEGER, start_ns INTEGER, end_ns INTEGER, duration_ns INTEGER,
  exit_status INTEGER, term_signal INTEGER, core_dumped INTEGER,
  exe TEXT, argv TEXT, cwd TEXT, comm TEXT, uid INTEGER, euid INTEGER, gid INTEGER, egid INTEGER,
  tracer_pid INTEGER, exec_count INTEGER NOT NULL, thread_count INTEGER NOT NULL, flags TEXT NOT NULL,
  PRIMARY KEY (trace, id));
CREATE TABLE execs (
  trace INTEGER NOT NULL, process_id INTEGER NOT NULL, seq INTEGER NOT NULL, time_ns INTEGER,
  exe TEXT, argv TEXT, cwd TEXT, PRIMARY KEY (trace, process_id, seq));
CREATE TABLE events (
  trace INTEGER NOT NULL, process_id INTEGER NOT NULL, time_ns INTEGER, kind TEXT NOT NULL, detail TEXT);
CREATE TABLE gaps (
  trace INTEGER NOT NULL, kind TEXT NOT NULL, from_ns INTEGER, to_ns INTEGER, lost_count INTEGER, detail TEXT);
CREATE INDEX processes_pid ON processes (pid);
CREATE INDEX processes_parent ON processes (trace, parent_id);
CREATE INDEX processes_exe ON processes (exe);
CREATE INDEX execs_exe ON execs (exe);
CREATE INDEX events_process ON events (trace, process_id);
CREATE INDEX events_kind ON events (kind);
)";

using Cell = std::variant<std::monostate, int64_t, std::string>;

template <typename T>
Cell cellOf(const std::optional<T>& value) {
  return value ? Cell(int64_t(*value)) : Cell();
}
// Text from the trace as the CSV writes it: control characters and invalid
// UTF-8 escaped. SQLite stores TEXT bytes unchecked, and readers such as
// Python's sqlite3 module refuse a whole query over one invalid cell.
Cell textOf(std::string_view value) { return Cell(escapedText(value)); }
Cell textOf(const Text& value) { return value ? textOf(*value) : Cell(); }

// The command line as `processes --format csv` writes it; NULL when argv is unknown.
Cell argvOf(const Image* image) { return image && image->argv ? Cell(argvLine(image)) : Cell(); }

class Database {
 public:
  ~Database() {
    for (auto* statement : statements_) sqlite3_finalize(statement);
    if (db_) sqlite3_close(db_);
  }
  Status open(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
      return failure("cannot create the database");
    return okStatus();
  }
  Status exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? okStatus() : failure(sql);
  }
  // Prepares `sql`; the statement lives as long as the database.
  Result<sqlite3_stmt*> prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) return failure(sql).error();
    statements_.push_back(statement);
    return statement;
  }
  Status insert(sqlite3_stmt* statement, const std::vector<Cell>& row) {
    sqlite3_reset(statement);
    for (size_t i = 0; i < row.size(); ++i) bind(statement, int(i + 1), row[i]);
    return sqlite3_step(statement) == SQLITE_DONE ? okStatus() : failure("insert");
  }
  Status close() {
    for (auto* statement : statements_) sqlite3_finalize(statement);
    statements_.clear();
    int rc = sqlite3_close(db_);
    db_ = nullptr;
    return rc == SQLITE_OK ? okStatus() : Error{"cannot close the database"};
  }

 private:
  static void bind(sqlite3_stmt* statement, int at, const Cell& cell) {
    if (const auto* number = std::get_if<int64_t>(&cell))
      sqlite3_bind_int64(statement, at, *number);
    else if (const auto* text = std::get_if<std::string>(&cell))
      sqlite3_bind_text(statement, at, text->data(), int(text->size()), SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(statement, at);
  }
  Status failure(const std::string& what) const {
    return Error{what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory")};
  }
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

struct Statements {
  sqlite3_stmt* process = nullptr;
  sqlite3_stmt* exec = nullptr;
  sqlite3_stmt* event = nullptr;
  sqlite3_stmt* gap = nullptr;
};

Result<Statements> prepareAll(Database& db) {
  Statements s;
  for (auto [target, sql] : {std::pair{&s.process, "INSERT INTO processes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
                             std::pair{&s.exec, "INSERT INTO execs VALUES (?,?,?,?,?,?,?)"},
                             std::pair{&s.event, "INSERT INTO events VALUES (?,?,?,?,?)"},
                             std::pair{&s.gap, "INSERT INTO gaps VALUES (?,?,?,?,?,?)"}}) {
    auto statement = db.prepare(sql);
    if (!statement) return statement.error();
    *target = *statement;
  }
  return s;
}

std::string flagsText(const Process& p) {
  std::string text;
  for (const auto& name : flagNames(p)) text += (text.empty() ? "" : "|") + name;
  return text;
}

Status insertProcess(Database& db, const Statements& s, const TraceView& view, const Process& p) {
  const Process* parent = view.trace->model.find(p.parentId);
  const Image* image = p.lastImage();
  int64_t execCount = 0;
  for (const auto& exec : p.execs) execCount += exec.timeNs ? 1 : 0;
  return db.insert(s.process,
                   {int64_t(view.index), textOf(view.trace->host()), int64_t(p.id), int64_t(p.pid),
                    parent ? Cell(int64_t(parent->id)) : Cell(), cellOf(p.parentPid), cellOf(p.startNs),
                    cellOf(p.endNs), cellOf(p.durationNs()), cellOf(p.exitStatus), cellOf(p.termSignal),
                    p.ended() && p.exitCode ? Cell(int64_t(p.coreDumped)) : Cell(),
                    image ? textOf(image->exe) : Cell(), argvOf(image), image ? textOf(image->cwd) : Cell(),
                    p.comm.empty() ? Cell() : textOf(p.comm), cellOf(p.ruid), cellOf(p.euid), cellOf(p.rgid),
                    cellOf(p.egid), cellOf(p.tracerPid), execCount, int64_t(p.threadCount), flagsText(p)});
}

Status insertExecs(Database& db, const Statements& s, const TraceView& view, const Process& p) {
  int64_t seq = 0;
  for (const auto& exec : p.execs) {
    const Image* image = exec.image;
    auto status = db.insert(s.exec, {int64_t(view.index), int64_t(p.id), seq++, cellOf(exec.timeNs),
                                     textOf(image->exe), argvOf(image), textOf(image->cwd)});
    if (!status) return status;
  }
  return okStatus();
}

struct EventRow {
  Cell time;
  const char* kind;
  Cell detail;
};

std::string credentialsText(const Process& p) {
  auto id = [](const std::optional<uint32_t>& value) { return value ? std::to_string(*value) : std::string("?"); };
  return "uid=" + id(p.ruid) + " euid=" + id(p.euid) + " gid=" + id(p.rgid) + " egid=" + id(p.egid);
}

// The facts the model keeps about a process, as rows: fork, exec and exit with
// their times; the others (setsid, ptrace, credentials, comm, coredump) are
// kept as their last value or a flag, so their time is NULL.
std::vector<EventRow> eventsOf(const Process& p) {
  std::vector<EventRow> rows;
  if (p.forkSeen()) rows.push_back({cellOf(p.startNs), "fork", cellOf(p.parentPid)});
  for (const auto& exec : p.execs)
    if (exec.timeNs) rows.push_back({cellOf(exec.timeNs), "exec", textOf(exec.image->exe)});
  if (p.endNs) rows.push_back({cellOf(p.endNs), "exit", statusText(p)});
  if (p.has(kDuplicateExit)) rows.push_back({Cell(), "duplicate_exit", Cell()});
  if (p.has(kSessionLeader)) rows.push_back({Cell(), "setsid", Cell()});
  if (p.has(kTraced)) rows.push_back({Cell(), "ptrace_attach", cellOf(p.tracerPid)});
  if (p.has(kCredentialsChanged)) rows.push_back({Cell(), "credentials", credentialsText(p)});
  if (p.renamed) rows.push_back({Cell(), "comm", textOf(p.comm)});  // not the name an exec gave
  if (p.has(kCoredumpEvent)) rows.push_back({Cell(), "coredump", Cell()});
  return rows;
}

Status insertEvents(Database& db, const Statements& s, const TraceView& view, const Process& p) {
  for (const auto& row : eventsOf(p)) {
    auto status = db.insert(s.event, {int64_t(view.index), int64_t(p.id), row.time, row.kind, row.detail});
    if (!status) return status;
  }
  return okStatus();
}

Status insertTrace(Database& db, const Statements& s, const TraceView& view) {
  for (const auto& p : view.trace->model.processes) {
    if (!view.scope.contains(p.id)) continue;
    for (auto* insert : {insertProcess, insertExecs, insertEvents})
      if (auto status = insert(db, s, view, p); !status) return status;
  }
  for (const auto& loss : view.trace->model.losses) {
    auto status = db.insert(s.gap, {int64_t(view.index), loss.kind == LossKind::gap ? "gap" : "damage",
                                    cellOf(loss.fromNs), cellOf(loss.toNs), cellOf(loss.lostCount), textOf(loss.detail)});
    if (!status) return status;
  }
  return okStatus();
}

Status fill(Database& db, const std::vector<TraceView>& views) {
  if (auto status = db.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;"); !status) return status;
  if (auto status = db.exec(kSchema); !status) return status;
  auto statements = prepareAll(db);
  if (!statements) return statements.error();
  for (const auto& view : views)
    if (auto status = insertTrace(db, *statements, view); !status) return status;
  return db.exec("COMMIT;");
}

}  // namespace

Status writeSqlite(const std::vector<TraceView>& views, const std::string& path) {
  const std::string partial = path + ".partial";
  std::remove(partial.c_str());
  // Created 0600 before SQLite opens it (as an empty database), as traces
  // are: the database holds their command lines. SQLite gives its journal
  // the same mode.
  if (int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  Status status = okStatus();
  {
    Database db;
    status = db.open(partial);
    if (status) status = fill(db, views);
    if (status) status = db.close();
  }
  if (status && std::rename(partial.c_str(), path.c_str()) != 0)
    status = Error{"cannot rename " + partial + " to it: " + std::strerror(errno)};
  if (status) return status;
  std::remove(partial.c_str());
  return Error{path + ": cannot write the database: " + status.error().message +
               " (check that the directory exists and is writable)"};
}

}  // namespace proctape::analyze
