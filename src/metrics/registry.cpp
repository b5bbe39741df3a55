#include "reelhub/metrics/registry.hpp"

#include <cmath>
#include <spdlog/fmt/fmt.h>

#include <sstream>
#include <unordered_map>

namespace reelhub::metrics {
namespace {

void append_escaped_label(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
}

/// Appends `name="value"` to the label set begun at `start` in `out` ("{" first, "," after).
void append_label(std::string& out, std::size_t start, std::string_view name, std::string_view value) {
  out.push_back(out.size() == start ? '{' : ',');
  out += name;
  out += "=\"";
  append_escaped_label(out, value);
  out += '"';
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
  std::string out;
  for (const auto& [name, value] : labels) append_label(out, 0, name, value);
  if (!out.empty()) out += '}';
  return out;
}

void append_labels(std::string& out, std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  const std::size_t start = out.size();
  for (const auto& [name, value] : labels) append_label(out, start, name, value);
  if (out.size() != start) out += '}';
}

namespace {
std::atomic<std::uint64_t> next_registry_id{1};
}  // namespace

Registry::Registry() : id_(next_registry_id++) {}
Registry::~Registry() = default;

Registry::Family& Registry::family(const std::string& name) { return families_[name]; }

Registry::Shard& Registry::local_shard() {
  // Registry ids are never reused, so an entry of a destroyed registry is never looked up again.
  thread_local std::unordered_map<std::uint64_t, Shard*> shards;
  Shard*& shard = shards[id_];
  if (!shard) {
    std::lock_guard lock(mutex_);
    shard = shards_.emplace_back(std::make_unique<Shard>()).get();
  }
  return *shard;
}

void Registry::describe(const std::string& name, const std::string& type, const std::string& help,
                        std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  auto& f = family(name);
  f.type = type;
  f.help = help;
  // Buckets are fixed once something was observed: existing counts are laid out by them.
  if (!f.observed) f.buckets = type == "histogram" && buckets.empty() ? default_buckets : std::move(buckets);
}

void Registry::inc(const std::string& name, const Labels& labels, double by) {
  inc_rendered(name, render_labels(labels), by);
}

void Registry::inc_rendered(std::string_view name, std::string_view rendered_labels, double by) {
  Shard& shard = local_shard();
  std::unique_lock lock(shard.mutex);
  auto it = shard.counters.find(name);
  if (it == shard.counters.end()) {
    lock.unlock();
    {
      std::lock_guard registry_lock(mutex_);  // first use in this thread: make the family known
      family(std::string(name));
    }
    lock.lock();
    it = shard.counters.try_emplace(std::string(name)).first;
  }
  auto series = it->second.find(rendered_labels);
  if (series == it->second.end()) series = it->second.emplace(std::string(rendered_labels), 0.0).first;
  series->second += by;
}

void Registry::set(const std::string& name, const Labels& labels, double value) {
  const auto key = render_labels(labels);
  std::lock_guard lock(mutex_);
  auto& f = family(name);
  if (f.help.empty()) f.type = "gauge";
  f.values[key] = value;
}

void Registry::observe(const std::string& name, const Labels& labels, double value) {
  observe_rendered(name, render_labels(labels), value);
}

void Registry::observe_rendered(std::string_view name, std::string_view rendered_labels, double value) {
  Shard& shard = local_shard();
  std::unique_lock lock(shard.mutex);
  auto it = shard.histograms.find(name);
  if (it == shard.histograms.end()) {
    lock.unlock();
    std::vector<double> buckets;
    {
      std::lock_guard registry_lock(mutex_);  // first use in this thread: fix and copy the buckets
      auto& f = family(std::string(name));
      if (f.buckets.empty()) {
        f.type = "histogram";
        f.buckets = default_buckets;
      }
      f.observed = true;
      buckets = f.buckets;
    }
    lock.lock();
    it = shard.histograms.try_emplace(std::string(name), Shard::Observed{std::move(buckets), {}}).first;
  }
  const auto& buckets = it->second.buckets;
  auto found = it->second.series.find(rendered_labels);
  if (found == it->second.series.end()) found = it->second.series.try_emplace(std::string(rendered_labels)).first;
  auto& h = found->second;
  if (h.counts.empty()) h.counts.assign(buckets.size(), 0);
  for (std::size_t i = 0; i < buckets.size(); ++i)
    if (value <= buckets[i]) ++h.counts[i];
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
  const auto key = render_labels(labels);
  std::lock_guard lock(mutex_);
  double total = 0;
  if (auto it = families_.find(name); it != families_.end())
    if (auto v = it->second.values.find(key); v != it->second.values.end()) total += v->second;
  for (const auto& shard : shards_) {
    std::lock_guard shard_lock(shard->mutex);
    if (auto it = shard->counters.find(name); it != shard->counters.end())
      if (auto v = it->second.find(key); v != it->second.end()) total += v->second;
  }
  return total;
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

  std::lock_guard lock(mutex_);
  // The shards summed: family -> rendered label set -> value, and the same for histograms.
  std::map<std::string, std::map<std::string, double>> values;
  std::map<std::string, std::map<std::string, Histogram>> histograms;
  for (const auto& [name, f] : families_) values[name] = f.values;
  for (const auto& shard : shards_) {
    std::lock_guard shard_lock(shard->mutex);
    for (const auto& [name, series] : shard->counters)
      for (const auto& [labels, v] : series) values[name][labels] += v;
    for (const auto& [name, observed] : shard->histograms)
      for (const auto& [labels, h] : observed.series) {
        auto& total = histograms[name][labels];
        if (total.counts.empty()) total.counts.assign(h.counts.size(), 0);
        for (std::size_t i = 0; i < h.counts.size(); ++i) total.counts[i] += h.counts[i];
        total.sum += h.sum;
        total.count += h.count;
      }
  }

  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out << "# HELP " << name << ' ' << f.help << '\n';
    out << "# TYPE " << name << ' ' << f.type << '\n';
    for (const auto& [labels, v] : values[name]) out << name << labels << ' ' << format_value(v) << '\n';
    if (auto it = computed.find(name); it != computed.end())
      for (const auto& [labels, v] : it->second) out << name << render_labels(labels) << ' ' << format_value(v) << '\n';
    for (const auto& [labels, h] : histograms[name]) {
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
