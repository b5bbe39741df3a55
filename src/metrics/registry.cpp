#include "reelhub/metrics/registry.hpp"

#include <cmath>
#include <spdlog/fmt/fmt.h>

#include <sstream>
#include <unordered_map>

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
  const auto key = render_labels(labels);
  Shard& shard = local_shard();
  std::unique_lock lock(shard.mutex);
  auto it = shard.counters.find(name);
  if (it == shard.counters.end()) {
    lock.unlock();
    {
      std::lock_guard registry_lock(mutex_);  // first use in this thread: make the family known
      family(name);
    }
    lock.lock();
    it = shard.counters.try_emplace(name).first;
  }
  it->second[key] += by;
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
  Shard& shard = local_shard();
  std::unique_lock lock(shard.mutex);
  auto it = shard.histograms.find(name);
  if (it == shard.histograms.end()) {
    lock.unlock();
    std::vector<double> buckets;
    {
      std::lock_guard registry_lock(mutex_);  // first use in this thread: fix and copy the buckets
      auto& f = family(name);
      if (f.buckets.empty()) {
        f.type = "histogram";
        f.buckets = default_buckets;
      }
      f.observed = true;
      buckets = f.buckets;
    }
    lock.lock();
    it = shard.histograms.try_emplace(name, Shard::Observed{std::move(buckets), {}}).first;
  }
  const auto& buckets = it->second.buckets;
  auto& h = it->second.series[key];
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
