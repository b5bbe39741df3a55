// The reelhub executable: configuration and logging, then the composition root.

#include <spdlog/spdlog.h>

#include <iostream>

#include "app.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/logging.hpp"
#include "reelhub/media/logging.hpp"

int main(int argc, char** argv) {
  reelhub::CommandLine cl;
  try {
    cl = reelhub::load_config(argc, argv, reelhub::current_environment());
  } catch (const reelhub::ConfigError& e) {
    std::cerr << "reelhub: configuration error: " << e.what() << "\n(see reelhub --help)\n";
    return 2;
  }
  if (cl.command == "help") {
    std::cout << reelhub::help_text();
    return 0;
  }
  reelhub::init_logging(cl.config.log_format, cl.config.log_level);
  reelhub::media::route_libav_logs();
  int status = 1;
  try {
    // The app's threads have all stopped when it goes out of scope, so nothing logs after it.
    reelhub::app::App app(std::move(cl.config));
    if (cl.command == "migrate") {
      const int applied = app.migrate();
      spdlog::info("migrations up to date ({} applied)", applied);
      status = 0;
    } else {
      status = app.serve();
    }
  } catch (const reelhub::ApiError& e) {
    spdlog::critical("cannot start: {} (is PostgreSQL running and DATABASE_URL right?)", e.what());
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
  }
  reelhub::stop_logging();
  return status;
}
