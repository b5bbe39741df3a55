#include "reelhub/db/statements.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

namespace reelhub::db {
namespace {

/// The process-wide name -> SQL table that Statement constructors fill in.
class Registry {
 public:
  static Registry& instance() {
    // A function-local static: repos register from their own static initialisers, in any order.
    static Registry registry;
    return registry;
  }

  void add(const std::string& name, const std::string& sql) {
    if (name.empty()) throw std::logic_error("a prepared statement needs a name");
    std::lock_guard lock(mutex_);
    if (!statements_.emplace(name, sql).second) {
      throw std::logic_error("prepared statement '" + name + "' is declared twice");
    }
  }

  void define_on(pqxx::connection_base& conn) {
    std::lock_guard lock(mutex_);
    for (const auto& [name, sql] : statements_) conn.prepare(name, sql);
  }

  std::vector<std::string> names() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    out.reserve(statements_.size());
    for (const auto& entry : statements_) out.push_back(entry.first);
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> statements_;
};

}  // namespace

Statement::Statement(std::string name, std::string sql) : name_(std::move(name)), sql_(std::move(sql)) {
  Registry::instance().add(name_, sql_);
}

void define_statements(pqxx::connection_base& conn) { Registry::instance().define_on(conn); }

std::vector<std::string> statement_names() { return Registry::instance().names(); }

}  // namespace reelhub::db
