#pragma once
// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format by GET /metrics.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace reelhub::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  void inc(const std::string& name, const Labels& labels = {}, double by = 1);
  void set(const std::string& name, const Labels& labels, double value);
  void observe(const std::string& name, const Labels& labels, double value);
  /// Declares a metric's help text and type ("counter", "gauge", "histogram").
  /// Histograms take their bucket upper bounds here.
  void describe(const std::string& name, const std::string& type, const std::string& help,
                std::vector<double> buckets = {});
  /// A gauge computed when /metrics is scraped (open connections, pool state).
  void gauge_callback(const std::string& name, std::function<std::vector<std::pair<Labels, double>>()> fn);

  std::string render() const;
  /// Current value of a counter or gauge series (tests and health checks).
  double value(const std::string& name, const Labels& labels = {}) const;

 private:
  struct Histogram {
    std::vector<std::uint64_t> counts;  // one per bucket: observations <= its bound
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    std::string type = "counter";
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, double> values;         // rendered label set -> value
    std::map<std::string, Histogram> histograms;  // rendered label set -> histogram
    std::function<std::vector<std::pair<Labels, double>>()> callback;
  };
  Family& family(const std::string& name);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

std::string render_labels(const Labels& labels);

}  // namespace reelhub::metrics
