#include "reelhub/metrics/registry.hpp"

#include <cmath>
#include <spdlog/fmt/fmt.h>

#include <sstream>

namespace reelhub::metrics {
namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string format_value(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);  // shortest text that reads back as the same double
}

// Adds one label to an already rendered label set ("{a="1"}" + le="0.5").
std::string with_label(const std::string& rendered, const std::string& name, const std::string& value) {
  const std::string extra = name + "=\"" + value + "\"";
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

const std::vector<double> default_buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

}  // namespace

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
  }
  return out + "}";
}

Registry::Family& Registry::family(const std::string& name) { return families_[name]; }

void Registry::describe(const std::string& name, const std::string& type, const std::string& help,
                        std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  auto& f = family(name);
  f.type = type;
  f.help = help;
  // Buckets are fixed once something was observed: existing counts are laid out by them.
  if (f.histograms.empty()) f.buckets = type == "histogram" && buckets.empty() ? default_buckets : std::move(buckets);
}

void Registry::inc(const std::string& name, const Labels& labels, double by) {
  const auto key = render_labels(labels);
  std::lock_guard lock(mutex_);
  family(name).values[key] += by;
}

void Registry::set(const std::string& name, const Labels& labels, double value) {
  const auto key = render_labels(labels);
  std::lock_guard lock(mutex_);
  auto& f = family(name);
  if (f.help.empty()) f.type = "gauge";
  f.values[key] = value;
}

void Registry::observe(const std::string& name, const Labels& labels, double value) {
  const auto key = render_labels(labels);
  std::lock_guard lock(mutex_);
  auto& f = family(name);
  if (f.buckets.empty()) {
    f.type = "histogram";
    f.buckets = default_buckets;
  }
  auto& h = f.histograms[key];
  if (h.counts.empty()) h.counts.assign(f.buckets.size(), 0);
  for (std::size_t i = 0; i < f.buckets.size(); ++i)
    if (value <= f.buckets[i]) ++h.counts[i];
  h.sum += value;
  ++h.count;
}

void Registry::gauge_callback(const std::string& name,
                              std::function<std::vector<std::pair<Labels, double>>()> fn) {
  std::lock_guard lock(mutex_);
  auto& f = family(name);
  f.type = "gauge";
  f.callback = std::move(fn);
}

double Registry::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto v = it->second.values.find(render_labels(labels));
  return v == it->second.values.end() ? 0 : v->second;
}

std::string Registry::render() const {
  // Callbacks may take other locks (pools, hubs); run them before taking ours.
  std::vector<std::pair<std::string, std::function<std::vector<std::pair<Labels, double>>()>>> callbacks;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, f] : families_)
      if (f.callback) callbacks.emplace_back(name, f.callback);
  }
  std::map<std::string, std::vector<std::pair<Labels, double>>> computed;
  for (auto& [name, fn] : callbacks) computed[name] = fn();

  std::ostringstream out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out << "# HELP " << name << ' ' << f.help << '\n';
    out << "# TYPE " << name << ' ' << f.type << '\n';
    for (const auto& [labels, v] : f.values) out << name << labels << ' ' << format_value(v) << '\n';
    if (auto it = computed.find(name); it != computed.end())
      for (const auto& [labels, v] : it->second) out << name << render_labels(labels) << ' ' << format_value(v) << '\n';
    for (const auto& [labels, h] : f.histograms) {
      for (std::size_t i = 0; i < f.buckets.size(); ++i)
        out << name << "_bucket" << with_label(labels, "le", format_value(f.buckets[i])) << ' ' << h.counts[i] << '\n';
      out << name << "_bucket" << with_label(labels, "le", "+Inf") << ' ' << h.count << '\n';
      out << name << "_sum" << labels << ' ' << format_value(h.sum) << '\n';
      out << name << "_count" << labels << ' ' << h.count << '\n';
    }
  }
  return out.str();
}

}  // namespace reelhub::metrics
