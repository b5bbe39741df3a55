#pragma once
// Assertions on the wire format every endpoint shares (API.md "Conventions").

#include <gtest/gtest.h>

#include <string>

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

}  // namespace reelhub::testing
