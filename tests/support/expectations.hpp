#pragma once
// Assertions on the wire format every endpoint shares (API.md "Conventions").

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_client.hpp"
#include "server_process.hpp"

namespace reelhub::testing {

/// `res` is the seed 002 error: the status, Content-Type application/json, and a body
/// {"error": non-empty string, "message": non-empty string, "code": status}.
::testing::AssertionResult is_api_error(const HttpResponse& res, int status);

/// Content-Type is application/json (any parameters).
::testing::AssertionResult is_json(const HttpResponse& res);

/// Waits for `server` to exit and expects code 0; a failure shows the end of its log
/// (a crash, a sanitizer report).
::testing::AssertionResult exits_cleanly(ServerProcess& server,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// ISO 8601 UTC with a Z suffix, e.g. 2025-09-26T01:00:00Z (fractional seconds allowed).
bool is_iso8601_utc(const std::string& s);

/// The value of the Prometheus sample `name{...}` in the text page `metrics` whose labels include
/// all of `labels` (each as `key="value"`); -1 when absent.
double metric_sample(const std::string& metrics, const std::string& name, const std::vector<std::string>& labels);

}  // namespace reelhub::testing
