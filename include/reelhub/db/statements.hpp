#pragma once
// Named prepared statements. Each repo declares its SQL as namespace-scope Statement constants
// (userver's kSelectValue style); constructing one registers it process-wide, every connection the
// pool opens defines all registered statements, and libpqxx prepares each one on that connection
// the first time it is executed there. A replacement connection starts with none prepared and
// prepares them again on first use, so no statement outlives the server session it was made in.

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace reelhub::db {

/// A named SQL statement (with $1.. placeholders), prepared once per connection on first use.
class Statement {
 public:
  /// Registers `sql` under `name` ("module.verb_noun"). A name declared twice throws
  /// std::logic_error: at static initialisation that stops the process before it serves anything.
  Statement(std::string name, std::string sql);

  /// What `tx.exec_prepared(...)` takes.
  const std::string& name() const { return name_; }
  const std::string& sql() const { return sql_; }

 private:
  std::string name_;
  std::string sql_;
};

/// Defines every registered statement on `conn` without a round trip: libpqxx sends the PREPARE on
/// a statement's first execution on this connection. Statements must be declared at namespace
/// scope, so that all are registered before main() and thus before any connection opens.
void define_statements(pqxx::connection_base& conn);

/// The names of all registered statements, sorted (for tests and diagnostics).
std::vector<std::string> statement_names();

}  // namespace reelhub::db
