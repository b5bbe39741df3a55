#include "reelhub/core/app.hpp"

namespace reelhub {

App::App(Config cfg)
    : config(std::move(cfg)),
      db(db::PoolOptions{config.database_url, config.db_pool_size, std::chrono::milliseconds(config.db_wait_ms),
                         config.db_statement_timeout_ms},
         metrics),
      tokens(config.jwt_secret, config.access_token_ttl_seconds, config.jwt_leeway_seconds),
      media_root(std::filesystem::absolute(config.media_root)),
      hub(config, db, metrics) {}

}  // namespace reelhub
