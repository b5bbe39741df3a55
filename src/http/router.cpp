#include "reelhub/http/router.hpp"

#include <algorithm>

namespace reelhub::http {
namespace {

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> out;
  if (pattern == "/") return out;  // the root has no segments, as Boost.URL parses it
  std::size_t start = 1;           // patterns begin with '/'
  while (start <= pattern.size()) {
    auto end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    out.push_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool is_param(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// Literal segments win over parameters, so "/users/profile" beats "/users/{id}".
bool matches(const Route& route, const std::vector<std::string>& segments, std::map<std::string, std::string>* params) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& p = route.segments[i];
    if (is_param(p)) {
      if (segments[i].empty()) return false;
      if (params) (*params)[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  return true;
}

int literal_count(const Route& r) {
  return static_cast<int>(std::count_if(r.segments.begin(), r.segments.end(), [](auto& s) { return !is_param(s); }));
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  auto route = std::make_unique<Route>();
  route->method = std::move(method);
  route->segments = split_pattern(pattern);
  route->pattern = std::move(pattern);
  route->handler = std::move(handler);
  route->options = std::move(options);
  routes_.push_back(std::move(route));
  // Most specific first; stable so registration order breaks ties.
  std::stable_sort(routes_.begin(), routes_.end(),
                   [](const auto& a, const auto& b) { return literal_count(*a) > literal_count(*b); });
}

Match Router::match(const std::string& method, const std::vector<std::string>& segments) const {
  Match result;
  const std::string& wanted = method == "HEAD" ? std::string("GET") : method;
  for (const auto& route : routes_) {
    if (!matches(*route, segments, nullptr)) continue;
    if (std::find(result.allowed.begin(), result.allowed.end(), route->method) == result.allowed.end())
      result.allowed.push_back(route->method);
    if (!result.route && route->method == wanted) {
      matches(*route, segments, &result.params);
      result.route = route.get();
    }
  }
  if (std::find(result.allowed.begin(), result.allowed.end(), "GET") != result.allowed.end())
    result.allowed.push_back("HEAD");
  if (!result.allowed.empty()) result.allowed.push_back("OPTIONS");
  // `allowed` stays empty for the fallback: an OPTIONS or POST on such a path is still a 404.
  if (result.allowed.empty() && fallback_ && wanted == "GET") result.route = fallback_.get();
  return result;
}

void Router::set_fallback(std::string pattern, Handler handler, RouteOptions options) {
  fallback_ = std::make_unique<Route>();
  fallback_->method = "GET";
  fallback_->pattern = std::move(pattern);
  fallback_->handler = std::move(handler);
  fallback_->options = std::move(options);
}

}  // namespace reelhub::http
