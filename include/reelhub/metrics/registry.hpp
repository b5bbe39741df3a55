#pragma once
// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format by GET /metrics. Counters and histograms are kept per thread and summed
// when scraped, so the request path of one io thread never waits for another's.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  void inc(const std::string& name, const Labels& labels = {}, double by = 1);
  /// inc() with the label set already rendered (append_labels): the request path reuses one
  /// buffer and, for a series seen before, allocates nothing.
  void inc_rendered(std::string_view name, std::string_view rendered_labels, double by = 1);
  void set(const std::string& name, const Labels& labels, double value);
  void observe(const std::string& name, const Labels& labels, double value);
  /// observe() with the label set already rendered (append_labels).
  void observe_rendered(std::string_view name, std::string_view rendered_labels, double value);
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
    bool observed = false;                         // buckets are fixed from then on
    std::map<std::string, double> values;          // gauges set(): rendered label set -> value
    std::function<std::vector<std::pair<Labels, double>>()> callback;
  };
  /// Counters and histograms updated by one thread; a scrape sums every shard. Its mutex is taken
  /// by that thread for each update and by a scrape, so io threads never contend with each other.
  struct Shard {
    std::mutex mutex;
    std::map<std::string, std::map<std::string, double, std::less<>>, std::less<>> counters;  // family -> labels -> sum
    struct Observed {
      std::vector<double> buckets;  // the family's, copied once
      std::map<std::string, Histogram, std::less<>> series;
    };
    std::map<std::string, Observed, std::less<>> histograms;  // family -> its series
  };
  Family& family(const std::string& name);
  /// The calling thread's shard of this registry, made on its first update.
  Shard& local_shard();

  const std::uint64_t id_;  // tells this registry's shards from those of one destroyed before it
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

std::string render_labels(const Labels& labels);
/// Appends the label set `{a="1",b="2"}` (values escaped, nothing for no labels) to `out`, as
/// render_labels() would return it.
void append_labels(std::string& out, std::initializer_list<std::pair<std::string_view, std::string_view>> labels);

}  // namespace reelhub::metrics
