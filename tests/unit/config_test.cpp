// Configuration: file < REELHUB_* environment < flags, coercion of text values, validation
// errors that name the key, commands and the help text.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "reelhub/core/config.hpp"

namespace reelhub {
namespace {

namespace fs = std::filesystem;
using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

const std::string kSecret = "unit-test-secret-0123456789abcdef";
const std::string kDatabaseUrl = "postgresql://reelhub@localhost/reelhub_test";

/// A private directory for config files, removed after the test.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "reelhub-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  /// Minimal valid environment: the two settings without a usable default.
  static Env base_env() { return {{"DATABASE_URL", kDatabaseUrl}, {"REELHUB_JWT_SECRET", kSecret}}; }

  /// load_config with argv = {"reelhub", args...} and an explicit, empty config file unless
  /// the test passes its own --config, so a config/ folder in the working directory never leaks in.
  CommandLine load(Args args, const Env& env = base_env()) {
    bool has_config = env.count("REELHUB_CONFIG") > 0;
    for (const auto& a : args) has_config = has_config || a.rfind("--config", 0) == 0;
    if (!has_config) args.insert(args.begin(), "--config=" + write("empty.json", "{}"));
    std::vector<const char*> argv = {"reelhub"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return load_config(static_cast<int>(argv.size()), argv.data(), env);
  }

  /// The ConfigError message of a load that must fail ("" and a test failure when it succeeds).
  std::string error_of(Args args, const Env& env = base_env()) {
    try {
      load(std::move(args), env);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected ConfigError";
    return "";
  }

  fs::path dir_;
};

Env with(Env env, const std::string& key, const std::string& value) {
  env[key] = value;
  return env;
}

TEST_F(ConfigTest, DefaultsWithAnEmptyFile) {
  const auto cl = load({});
  EXPECT_EQ(cl.command, "serve");
  const Config& c = cl.config;
  EXPECT_EQ(c.mode, "development");
  EXPECT_EQ(c.database_url, kDatabaseUrl);
  EXPECT_EQ(c.jwt_secret, kSecret);
  EXPECT_EQ(c.http_host, "0.0.0.0");
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.srt_port, 9000);
  EXPECT_EQ(c.media_root, "var/media");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_TRUE(c.migrate_on_start);
  EXPECT_TRUE(c.trusted_proxies.empty());
  EXPECT_TRUE(c.cors_origins.empty());
  EXPECT_EQ(c.body_limit_bytes, std::size_t{1} << 20);
  EXPECT_EQ(c.db_pool_size, 8);
  EXPECT_EQ(c.rate_limits.at("login").limit, 10);
  EXPECT_EQ(c.rate_limits.at("login").window_seconds, 60);
  EXPECT_EQ(c.rate_limits.at("general").limit, 1000);
}

TEST_F(ConfigTest, FileThenEnvironmentThenFlags) {
  const auto file = write("reelhub.json", R"({
    // comments are allowed in the file
    "http_port": 1111,
    "srt_port": 2222,
    "media_root": "/from/file",
    "log_level": "debug",
    "migrate_on_start": false,
    "trusted_proxies": ["10.0.0.0/8"],
    "db_pool_size": 4
  })");
  Env env = base_env();
  env["REELHUB_SRT_PORT"] = "3333";
  env["REELHUB_MEDIA_ROOT"] = "/from/env";
  env["REELHUB_DB_POOL_SIZE"] = "16";
  const auto c = load({"--config=" + file, "--media-root=/from/flag", "--db-pool-size", "32"}, env).config;
  EXPECT_EQ(c.http_port, 1111);           // file only
  EXPECT_EQ(c.log_level, "debug");        // file only
  EXPECT_FALSE(c.migrate_on_start);       // file only
  EXPECT_EQ(c.trusted_proxies, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(c.srt_port, 3333);            // env over file
  EXPECT_EQ(c.media_root, "/from/flag");  // flag over env over file
  EXPECT_EQ(c.db_pool_size, 32);          // flag given as two arguments
}

TEST_F(ConfigTest, ConfigFileFromEnvironmentAndFlagOverridesIt) {
  const auto env_file = write("env.json", R"({"http_port": 1000})");
  const auto flag_file = write("flag.json", R"({"http_port": 2000})");
  const auto env = with(base_env(), "REELHUB_CONFIG", env_file);
  EXPECT_EQ(load({}, env).config.http_port, 1000);
  EXPECT_EQ(load({"--config", flag_file}, env).config.http_port, 2000);
}

TEST_F(ConfigTest, ExampleFileInTheWorkingDirectoryIsTheDefault) {
  write("config/reelhub.example.json", R"({"http_port": 4321})");
  struct Chdir {  // restores the working directory even when load_config throws
    fs::path previous = fs::current_path();
    explicit Chdir(const fs::path& to) { fs::current_path(to); }
    ~Chdir() { fs::current_path(previous); }
  } in_dir(dir_);
  const char* argv[] = {"reelhub"};
  EXPECT_EQ(load_config(1, argv, base_env()).config.http_port, 4321);
  // An explicit file replaces the example; the example is not merged underneath it.
  const auto own = write("own.json", R"({"srt_port": 5555})");
  const auto c = load_config(1, argv, with(base_env(), "REELHUB_CONFIG", own)).config;
  EXPECT_EQ(c.srt_port, 5555);
  EXPECT_EQ(c.http_port, 8080);
}

TEST_F(ConfigTest, DatabaseUrl) {
  const Env plain = {{"DATABASE_URL", "postgresql://a/one"}, {"REELHUB_JWT_SECRET", kSecret}};
  EXPECT_EQ(load({}, plain).config.database_url, "postgresql://a/one");
  EXPECT_EQ(load({}, with(plain, "REELHUB_DATABASE_URL", "postgresql://b/two")).config.database_url,
            "postgresql://b/two");
  EXPECT_EQ(load({"--database-url=postgresql://c/three"}, plain).config.database_url, "postgresql://c/three");
  const auto file = write("db.json", R"({"database_url": "postgresql://file/db"})");
  EXPECT_EQ(load({"--config=" + file}, plain).config.database_url, "postgresql://a/one") << "env over file";
  EXPECT_EQ(load({"--config=" + file}, {{"REELHUB_JWT_SECRET", kSecret}}).config.database_url,
            "postgresql://file/db");

  const Env none = {{"REELHUB_JWT_SECRET", kSecret}};
  EXPECT_NE(error_of({}, none).find("database_url"), std::string::npos);
  EXPECT_NE(error_of({}, with(none, "DATABASE_URL", "")).find("database_url"), std::string::npos);
}

TEST_F(ConfigTest, ErrorsNameTheKey) {
  struct Case {
    const char* label;
    Args args;
    Env env;
    std::string file;       // written to a file passed with --config when not empty
    std::string expected;   // substring of the message
  };
  const Env env = base_env();
  const Case cases[] = {
      {"unknown flag", {"--no-such-key=1"}, env, "", "unknown flag --no-such-key"},
      {"unknown flag, separate value", {"--no-such-key", "1"}, env, "", "unknown flag --no-such-key"},
      {"unknown file key", {}, env, R"({"http_port": 80, "no_such_key": 1})", "unknown key 'no_such_key'"},
      {"flag needs a value", {"--http-port"}, env, "", "--http-port needs a value"},
      {"bad int flag", {"--http-port=80x"}, env, "", "--http-port"},
      {"bad int env", {}, with(env, "REELHUB_IO_THREADS", "twelve"), "", "REELHUB_IO_THREADS"},
      {"empty int env", {}, with(env, "REELHUB_DB_WAIT_MS", ""), "", "REELHUB_DB_WAIT_MS"},
      {"port 70000 flag", {"--http-port=70000"}, env, "", "http_port"},
      {"port 70000 env", {}, with(env, "REELHUB_SRT_PORT", "70000"), "", "srt_port"},
      {"port 70000 file", {}, env, R"({"http_port": 70000})", "http_port"},
      {"negative port", {"--http-port=-1"}, env, "", "http_port"},
      {"port 0", {"--http-port=0"}, env, "", "http_port"},
      {"negative size", {}, with(env, "REELHUB_BODY_LIMIT_BYTES", "-1"), "", "body_limit_bytes"},
      {"int as string in file", {}, env, R"({"db_pool_size": "8"})", "db_pool_size"},
      {"float in file", {}, env, R"({"db_pool_size": 8.5})", "db_pool_size"},
      {"bad bool flag", {"--migrate-on-start=maybe"}, env, "", "--migrate-on-start"},
      {"bad bool env", {}, with(env, "REELHUB_MIGRATE_ON_START", "on"), "", "REELHUB_MIGRATE_ON_START"},
      {"string bool in file", {}, env, R"({"migrate_on_start": "yes"})", "migrate_on_start"},
      {"mode", {"--mode=staging"}, env, "", "mode"},
      {"log format", {"--log-format=xml"}, env, "", "log_format"},
      {"ttl", {"--access-token-ttl-seconds=10"}, env, "", "access_token_ttl_seconds"},
      {"pool size", {"--db-pool-size=0"}, env, "", "db_pool_size"},
      {"connections per ip", {"--max-connections-per-ip=0"}, env, "", "max_connections_per_ip"},
      {"body budget below two avatars", {}, with(env, "REELHUB_BODY_MEMORY_BUDGET_BYTES", "6000000"), "",
       "body_memory_budget_bytes"},
      {"janitor interval", {"--janitor-interval-seconds=0"}, env, "", "janitor_interval_seconds"},
      {"janitor min age", {"--janitor-min-age-seconds=5"}, env, "", "janitor_min_age_seconds"},
      {"session retention", {"--session-retention-seconds=-1"}, env, "", "session_retention_seconds"},
      {"rate limit json", {}, with(env, "REELHUB_RATE_LIMITS", "{login: 3}"), "", "REELHUB_RATE_LIMITS"},
      {"rate limit without limit", {}, with(env, "REELHUB_RATE_LIMITS", R"({"login": {"window_seconds": 5}})"), "",
       "rate_limits"},
      {"negative rate limit", {}, env, R"({"rate_limits": {"login": {"limit": -1}}})", "rate_limits.login"},
      {"zero window", {}, env, R"({"rate_limits": {"login": {"limit": 5, "window_seconds": 0}}})",
       "rate_limits.login"},
      {"file not an object", {}, env, "[1, 2]", "not a JSON object"},
      {"file not JSON", {}, env, "http_port = 80", "not a JSON object"},
      {"unknown command", {"frobnicate"}, env, "", "unknown command 'frobnicate'"},
      {"two commands", {"migrate", "serve"}, env, "", "unknown command 'serve'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    Args args = c.args;
    if (!c.file.empty()) args.insert(args.begin(), "--config=" + write("case.json", c.file));
    const auto message = error_of(args, c.env);
    EXPECT_NE(message.find(c.expected), std::string::npos) << "message: " << message;
  }
}

TEST_F(ConfigTest, MissingExplicitConfigFile) {
  const auto message = error_of({"--config=" + (dir_ / "absent.json").string()});
  EXPECT_NE(message.find("cannot read config file"), std::string::npos) << message;
  EXPECT_NE(message.find("absent.json"), std::string::npos) << message;
}

TEST_F(ConfigTest, JwtSecretRules) {
  const std::string example = Config::example_jwt_secret;
  Env env = {{"DATABASE_URL", kDatabaseUrl}};

  // Development accepts the shipped example secret only on loopback; production refuses it.
  const auto loopback = with(with(env, "REELHUB_JWT_SECRET", example), "REELHUB_HTTP_HOST", "127.0.0.1");
  EXPECT_EQ(load({}, loopback).config.jwt_secret, example);
  EXPECT_EQ(load({}, with(loopback, "REELHUB_HTTP_HOST", "::1")).config.jwt_secret, example);
  for (const char* exposed : {"0.0.0.0", "::", "192.168.1.10", "localhost-or-not"}) {
    const auto message = error_of({}, with(loopback, "REELHUB_HTTP_HOST", exposed));
    EXPECT_NE(message.find("example secret"), std::string::npos) << exposed << ": " << message;
  }
  const auto prod = with(with(env, "REELHUB_JWT_SECRET", example), "REELHUB_MODE", "production");
  const auto refused = error_of({}, prod);
  EXPECT_NE(refused.find("jwt_secret"), std::string::npos) << refused;
  EXPECT_NE(refused.find("example"), std::string::npos) << refused;
  const auto from_file = write("example.json", R"({"jwt_secret": ")" + example + R"("})");
  EXPECT_NE(error_of({"--config=" + from_file, "--mode=production"}, env).find("jwt_secret"), std::string::npos);

  const auto ok = load({}, with(with(env, "REELHUB_JWT_SECRET", kSecret), "REELHUB_MODE", "production"));
  EXPECT_EQ(ok.config.mode, "production");

  // 31 characters is too short, 32 is enough; no secret at all is refused.
  const std::string s31(31, 'k'), s32(32, 'k');
  EXPECT_NE(error_of({}, with(env, "REELHUB_JWT_SECRET", s31)).find("jwt_secret must be at least 32"),
            std::string::npos);
  EXPECT_EQ(load({}, with(env, "REELHUB_JWT_SECRET", s32)).config.jwt_secret, s32);
  EXPECT_NE(error_of({}, env).find("jwt_secret"), std::string::npos);
}

TEST_F(ConfigTest, RateLimitsFromEnvironmentJson) {
  const auto env = with(base_env(), "REELHUB_RATE_LIMITS",
                        R"({"login": {"limit": 3, "window_seconds": 30}, "search": {"limit": 50}})");
  const auto c = load({}, env).config;
  EXPECT_EQ(c.rate_limits.at("login").limit, 3);
  EXPECT_EQ(c.rate_limits.at("login").window_seconds, 30);
  EXPECT_EQ(c.rate_limits.at("search").limit, 50);
  EXPECT_EQ(c.rate_limits.at("search").window_seconds, 60) << "window defaults to 60 s";
  EXPECT_EQ(c.rate_limits.at("general").limit, 1000) << "policies not mentioned keep their defaults";
  EXPECT_EQ(c.rate_limits.at("upload").limit, 5);
  EXPECT_EQ(c.rate_limits.size(), Config{}.rate_limits.size() + 1) << "the defaults plus search";
}

TEST_F(ConfigTest, RateLimitsMergeAcrossSources) {
  const auto file = write("limits.json", R"({"rate_limits": {"login": {"limit": 4, "window_seconds": 20}}})");
  const auto env = with(base_env(), "REELHUB_RATE_LIMITS", R"({"login": {"limit": 7}})");
  const auto c = load({"--config=" + file}, env).config;
  EXPECT_EQ(c.rate_limits.at("login").limit, 7);
  EXPECT_EQ(c.rate_limits.at("login").window_seconds, 20);
  EXPECT_EQ(load({"--config=" + file, R"(--rate-limits={"login": {"limit": 0}})"}, env).config.rate_limits.at("login").limit,
            0) << "0 = unlimited is allowed";
}

TEST_F(ConfigTest, CorsOrigins) {
  struct Case {
    std::string text;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"https://app.example", {"https://app.example"}},
      {"https://a.example,https://b.example", {"https://a.example", "https://b.example"}},
      {"https://a.example,,https://b.example,", {"https://a.example", "https://b.example"}},
      {"*", {"*"}},
      {R"(["https://a.example", "*"])", {"https://a.example", "*"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(load({}, with(base_env(), "REELHUB_CORS_ORIGINS", c.text)).config.cors_origins, c.expected);
    EXPECT_EQ(load({"--cors-origins=" + c.text}).config.cors_origins, c.expected);
  }
  const auto file = write("cors.json", R"({"cors_origins": ["https://file.example"]})");
  EXPECT_EQ(load({"--config=" + file}).config.cors_origins, std::vector<std::string>{"https://file.example"});
}

TEST_F(ConfigTest, BooleanSpellings) {
  struct Case {
    const char* text;
    bool value;
  };
  const Case cases[] = {{"true", true}, {"1", true}, {"yes", true}, {"false", false}, {"0", false}, {"no", false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(load({}, with(base_env(), "REELHUB_MIGRATE_ON_START", c.text)).config.migrate_on_start, c.value);
    EXPECT_EQ(load({std::string("--migrate-on-start=") + c.text}).config.migrate_on_start, c.value);
  }
}

TEST_F(ConfigTest, SizesAndPorts) {
  const auto c = load({"--http-port=65535", "--srt-port=1", "--body-limit-bytes=2048"},
                      with(base_env(), "REELHUB_AVATAR_LIMIT_BYTES", "10485760"))
                     .config;
  EXPECT_EQ(c.http_port, 65535);
  EXPECT_EQ(c.srt_port, 1);
  EXPECT_EQ(c.body_limit_bytes, 2048u);
  EXPECT_EQ(c.avatar_limit_bytes, 10485760u);
}

TEST_F(ConfigTest, HelpCommand) {
  for (const Args& args : {Args{"--help"}, Args{"-h"}, Args{"help"}, Args{"migrate", "--help"},
                           Args{"--http-port=1", "--help", "--no-such-key=1"}}) {
    SCOPED_TRACE(args.front());
    // Help needs no valid configuration: no database URL, no secret.
    std::vector<const char*> argv = {"reelhub"};
    for (const auto& a : args) argv.push_back(a.c_str());
    EXPECT_EQ(load_config(static_cast<int>(argv.size()), argv.data(), {}).command, "help");
  }
}

TEST_F(ConfigTest, Commands) {
  EXPECT_EQ(load({"migrate"}).command, "migrate");
  EXPECT_EQ(load({"serve"}).command, "serve");
  const auto cl = load({"migrate", "--http-port=1234"});
  EXPECT_EQ(cl.command, "migrate");
  EXPECT_EQ(cl.config.http_port, 1234);
  EXPECT_EQ(load({"--http-port=1234", "migrate"}).command, "migrate");
}

TEST(ConfigHelp, ListsEveryKeyWithFlagEnvironmentAndDefault) {
  const auto help = help_text();
  const char* keys[] = {
      "mode", "database_url", "http_host", "http_port", "srt_port", "media_root", "web_root", "public_host", "log_format",
      "log_level", "migrate_on_start", "jwt_secret", "access_token_ttl_seconds", "refresh_token_ttl_seconds",
      "jwt_leeway_seconds", "cors_origins", "trusted_proxies", "io_threads", "max_connections",
      "header_timeout_seconds", "idle_timeout_seconds", "body_timeout_seconds", "body_limit_bytes",
      "avatar_limit_bytes", "shutdown_grace_seconds", "db_pool_size", "db_wait_ms", "db_statement_timeout_ms",
      "recording_workers", "live_retention_seconds",
      "rate_limits",
  };
  for (std::string key : keys) {
    SCOPED_TRACE(key);
    std::string flag = "--" + key, env = "REELHUB_" + key;
    for (auto& ch : flag) ch = ch == '_' ? '-' : ch;
    for (auto& ch : env) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_NE(help.find("  " + flag + " / " + env + "\n"), std::string::npos);
  }
  EXPECT_NE(help.find("--http-port / REELHUB_HTTP_PORT\n      HTTP and WebSocket port [8080]"), std::string::npos);
  EXPECT_NE(help.find("[\"development\"]"), std::string::npos);
  EXPECT_NE(help.find("migrate"), std::string::npos);
  EXPECT_NE(help.find("--config"), std::string::npos);
  EXPECT_NE(help.find("DATABASE_URL"), std::string::npos);
}

}  // namespace
}  // namespace reelhub
