#include "test_database.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>

#include "reelhub/db/migrations.hpp"
#include "system.hpp"

namespace reelhub::testing {
namespace {

std::string uri_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

void admin_exec(const std::string& admin_url, const std::string& sql) {
  pqxx::connection conn(admin_url);
  pqxx::nontransaction tx(conn);  // CREATE/DROP DATABASE cannot run inside a transaction
  tx.exec(sql);
}

/// URL of the database `dbname` on the server `url` points at (any libpq form in, URI form out).
std::string database_url_for(const std::string& url, const std::string& dbname) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> opts(PQconninfoParse(url.c_str(), &err),
                                                                     &PQconninfoFree);
  if (!opts) {
    std::string msg = err ? err : "out of memory";
    PQfreemem(err);
    throw std::runtime_error("cannot parse PostgreSQL URL '" + url + "': " + msg);
  }
  std::string user, password, host, port, query;
  for (auto* o = opts.get(); o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    std::string key = o->keyword, val = o->val;
    if (key == "user") user = val;
    else if (key == "password") password = val;
    else if (key == "host") host = val;
    else if (key == "port") port = val;
    else if (key != "dbname") query += (query.empty() ? "?" : "&") + key + "=" + uri_escape(val);
  }
  std::string out = "postgresql://";
  if (!user.empty()) out += uri_escape(user) + (password.empty() ? "" : ":" + uri_escape(password)) + "@";
  out += uri_escape(host);
  if (!port.empty()) out += ":" + port;
  return out + "/" + uri_escape(dbname) + query;
}

}  // namespace

TestDatabase::TestDatabase()
    : TestDatabase(required_env("REELHUB_TEST_PG_URL",
                                "integration tests need a PostgreSQL superuser URL (scripts/test sets it)")) {}

TestDatabase::TestDatabase(std::string admin_url)
    : admin_url_(std::move(admin_url)), name_("reelhub_test_" + random_hex(8)),
      url_(database_url_for(admin_url_, name_)) {
  admin_exec(admin_url_, "CREATE DATABASE " + name_);
  try {
    pqxx::connection conn(url_);
    db::migrate(conn, db::embedded_migrations());
  } catch (...) {
    admin_exec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    throw;
  }
}

TestDatabase::~TestDatabase() {
  try {
    admin_exec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: could not drop test database %s: %s\n", name_.c_str(), e.what());
  }
}

void TestDatabase::exec(const std::string& sql) const {
  pqxx::connection conn(url_);
  pqxx::work tx(conn);
  tx.exec(sql);
  tx.commit();
}

std::string TestDatabase::scalar(const std::string& sql) const {
  pqxx::connection conn(url_);
  pqxx::work tx(conn);
  const pqxx::row row = tx.exec1(sql);
  if (row.size() != 1) throw std::runtime_error("expected one column from: " + sql);
  std::string value = row[0].is_null() ? std::string() : row[0].as<std::string>();
  tx.commit();  // the statement may write (INSERT ... RETURNING)
  return value;
}

}  // namespace reelhub::testing
