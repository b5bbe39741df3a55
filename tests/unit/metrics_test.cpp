// Prometheus registry: exact text exposition lines for counters, gauges, callbacks and histograms.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "reelhub/metrics/registry.hpp"

namespace reelhub::metrics {
namespace {

TEST(Metrics, CounterFamilyRendering) {
  Registry r;
  r.describe("reelhub_jobs_total", "counter", "Jobs done by kind");
  r.inc("reelhub_jobs_total", {{"kind", "b"}});
  r.inc("reelhub_jobs_total", {{"kind", "a"}});
  r.inc("reelhub_jobs_total", {{"kind", "a"}}, 2);
  EXPECT_EQ(r.render(),
            "# HELP reelhub_jobs_total Jobs done by kind\n"
            "# TYPE reelhub_jobs_total counter\n"
            "reelhub_jobs_total{kind=\"a\"} 3\n"
            "reelhub_jobs_total{kind=\"b\"} 1\n");
  EXPECT_EQ(r.value("reelhub_jobs_total", {{"kind", "a"}}), 3);
  EXPECT_EQ(r.value("reelhub_jobs_total", {{"kind", "b"}}), 1);
  EXPECT_EQ(r.value("reelhub_jobs_total", {{"kind", "c"}}), 0);
  EXPECT_EQ(r.value("reelhub_jobs_total"), 0);
  EXPECT_EQ(r.value("no_such_metric"), 0);
}

TEST(Metrics, UndescribedCounterWithoutLabels) {
  Registry r;
  r.inc("events_total");
  r.inc("events_total", {}, 0.5);
  EXPECT_EQ(r.render(),
            "# TYPE events_total counter\n"
            "events_total 1.5\n");
  EXPECT_EQ(r.value("events_total"), 1.5);
}

TEST(Metrics, LabelOrderIsKeptAndMatters) {
  Registry r;
  r.inc("req_total", {{"route", "/a"}, {"method", "GET"}, {"status", "200"}});
  EXPECT_EQ(r.render(),
            "# TYPE req_total counter\n"
            "req_total{route=\"/a\",method=\"GET\",status=\"200\"} 1\n");
  EXPECT_EQ(r.value("req_total", {{"route", "/a"}, {"method", "GET"}, {"status", "200"}}), 1);
  EXPECT_EQ(r.value("req_total", {{"method", "GET"}, {"route", "/a"}, {"status", "200"}}), 0);
}

TEST(Metrics, PreRenderedLabelsCountInTheSameSeries) {
  Registry r;
  r.inc("hits_total", {{"route", "/a"}, {"status", "200"}});
  std::string labels;
  append_labels(labels, {{"route", "/a"}, {"status", "200"}});
  r.inc_rendered("hits_total", labels, 2);
  EXPECT_EQ(r.value("hits_total", {{"route", "/a"}, {"status", "200"}}), 3);
  r.observe("took_seconds", {{"route", "/a"}}, 0.004);
  labels.clear();
  append_labels(labels, {{"route", "/a"}});
  r.observe_rendered("took_seconds", labels, 0.2);
  const std::string text = r.render();
  EXPECT_NE(text.find("took_seconds_count{route=\"/a\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("took_seconds_bucket{route=\"/a\",le=\"0.005\"} 1\n"), std::string::npos) << text;
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(render_labels({}), "");
  EXPECT_EQ(render_labels({{"a", "1"}}), "{a=\"1\"}");
  EXPECT_EQ(render_labels({{"path", "a\"b\\c\nd"}, {"x", ""}}), "{path=\"a\\\"b\\\\c\\nd\",x=\"\"}");

  std::string appended = "kept";
  append_labels(appended, {{"path", "a\"b\\c\nd"}, {"x", ""}});
  EXPECT_EQ(appended, "kept{path=\"a\\\"b\\\\c\\nd\",x=\"\"}");
  appended.clear();
  append_labels(appended, {});
  EXPECT_EQ(appended, "");

  Registry r;
  r.inc("odd_total", {{"v", "say \"hi\"\n"}});
  EXPECT_EQ(r.render(),
            "# TYPE odd_total counter\n"
            "odd_total{v=\"say \\\"hi\\\"\\n\"} 1\n");
}

TEST(Metrics, Gauges) {
  Registry r;
  r.set("queue_depth", {{"queue", "hls"}}, 5);
  r.set("queue_depth", {{"queue", "hls"}}, 3);
  r.set("queue_depth", {{"queue", "mail"}}, -2.25);
  EXPECT_EQ(r.value("queue_depth", {{"queue", "hls"}}), 3);
  EXPECT_EQ(r.value("queue_depth", {{"queue", "mail"}}), -2.25);
  EXPECT_EQ(r.render(),
            "# TYPE queue_depth gauge\n"
            "queue_depth{queue=\"hls\"} 3\n"
            "queue_depth{queue=\"mail\"} -2.25\n");
}

TEST(Metrics, DescribedGaugeKeepsHelp) {
  Registry r;
  r.describe("open_connections", "gauge", "Open HTTP connections");
  r.set("open_connections", {}, 12);
  EXPECT_EQ(r.render(),
            "# HELP open_connections Open HTTP connections\n"
            "# TYPE open_connections gauge\n"
            "open_connections 12\n");
}

TEST(Metrics, GaugeCallbackRunsAtRender) {
  Registry r;
  int calls = 0;
  r.describe("db_pool_connections", "gauge", "Pool connections by state");
  r.gauge_callback("db_pool_connections", [&calls] {
    ++calls;
    return std::vector<std::pair<Labels, double>>{{{{"state", "idle"}}, 6}, {{{"state", "busy"}}, 2}, {{}, 8}};
  });
  EXPECT_EQ(calls, 0);
  const std::string expected =
      "# HELP db_pool_connections Pool connections by state\n"
      "# TYPE db_pool_connections gauge\n"
      "db_pool_connections{state=\"idle\"} 6\n"
      "db_pool_connections{state=\"busy\"} 2\n"
      "db_pool_connections 8\n";
  EXPECT_EQ(r.render(), expected);
  EXPECT_EQ(r.render(), expected);
  EXPECT_EQ(calls, 2);
}

TEST(Metrics, CallbackMayUseTheRegistry) {
  // Callbacks run outside the registry lock, so one may read another metric without deadlock.
  Registry r;
  r.set("base", {}, 4);
  r.gauge_callback("derived", [&r] { return std::vector<std::pair<Labels, double>>{{{}, r.value("base") * 2}}; });
  EXPECT_EQ(r.render(),
            "# TYPE base gauge\n"
            "base 4\n"
            "# TYPE derived gauge\n"
            "derived 8\n");
}

TEST(Metrics, HistogramWithOwnBuckets) {
  Registry r;
  r.describe("latency_seconds", "histogram", "Request latency", {0.5, 1, 2.5});
  for (double v : {0.25, 0.5, 2.0, 10.0}) r.observe("latency_seconds", {{"route", "/x"}}, v);
  r.observe("latency_seconds", {}, 0.75);
  EXPECT_EQ(r.render(),
            "# HELP latency_seconds Request latency\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.5\"} 0\n"
            "latency_seconds_bucket{le=\"1\"} 1\n"
            "latency_seconds_bucket{le=\"2.5\"} 1\n"
            "latency_seconds_bucket{le=\"+Inf\"} 1\n"
            "latency_seconds_sum 0.75\n"
            "latency_seconds_count 1\n"
            "latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\n"
            "latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
            "latency_seconds_bucket{route=\"/x\",le=\"2.5\"} 3\n"
            "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{route=\"/x\"} 12.75\n"
            "latency_seconds_count{route=\"/x\"} 4\n");
}

TEST(Metrics, DefaultBucketsRenderAsWritten) {
  // Dashboards select buckets by the exact label text (le="0.1"), as the official clients write it.
  Registry r;
  r.describe("d_seconds", "histogram", "Durations");
  r.observe("d_seconds", {}, 0.003);
  EXPECT_EQ(r.render(),
            "# HELP d_seconds Durations\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.001\"} 0\n"
            "d_seconds_bucket{le=\"0.0025\"} 0\n"
            "d_seconds_bucket{le=\"0.005\"} 1\n"
            "d_seconds_bucket{le=\"0.01\"} 1\n"
            "d_seconds_bucket{le=\"0.025\"} 1\n"
            "d_seconds_bucket{le=\"0.05\"} 1\n"
            "d_seconds_bucket{le=\"0.1\"} 1\n"
            "d_seconds_bucket{le=\"0.25\"} 1\n"
            "d_seconds_bucket{le=\"0.5\"} 1\n"
            "d_seconds_bucket{le=\"1\"} 1\n"
            "d_seconds_bucket{le=\"2.5\"} 1\n"
            "d_seconds_bucket{le=\"5\"} 1\n"
            "d_seconds_bucket{le=\"10\"} 1\n"
            "d_seconds_bucket{le=\"+Inf\"} 1\n"
            "d_seconds_sum 0.003\n"
            "d_seconds_count 1\n");
}

TEST(Metrics, UndescribedHistogramGetsDefaultBuckets) {
  Registry r;
  r.observe("h", {}, 100);
  const auto text = r.render();
  EXPECT_EQ(text.rfind("# TYPE h histogram\n", 0), 0u) << text;
  EXPECT_NE(text.find("h_bucket{le=\"10\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_sum 100\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_count 1\n"), std::string::npos) << text;
}

TEST(Metrics, LargeBucketCountsAreExact) {
  // A busy server passes a million requests per bucket within a day; counts must stay exact.
  Registry r;
  r.describe("busy_seconds", "histogram", "Busy", {1});
  for (int i = 0; i < 1'234'567; ++i) r.observe("busy_seconds", {}, 0.5);
  EXPECT_EQ(r.render(),
            "# HELP busy_seconds Busy\n"
            "# TYPE busy_seconds histogram\n"
            "busy_seconds_bucket{le=\"1\"} 1234567\n"
            "busy_seconds_bucket{le=\"+Inf\"} 1234567\n"
            "busy_seconds_sum 617283.5\n"
            "busy_seconds_count 1234567\n");
}

TEST(Metrics, LargeCountersAreExact) {
  Registry r;
  r.inc("bytes_total", {}, 123456789012.0);
  EXPECT_EQ(r.render(), "# TYPE bytes_total counter\nbytes_total 123456789012\n");
}

TEST(Metrics, FamiliesAreSortedByName) {
  Registry r;
  r.inc("zeta_total");
  r.inc("alpha_total");
  r.set("mid", {}, 1);
  EXPECT_EQ(r.render(),
            "# TYPE alpha_total counter\n"
            "alpha_total 1\n"
            "# TYPE mid gauge\n"
            "mid 1\n"
            "# TYPE zeta_total counter\n"
            "zeta_total 1\n");
}

TEST(Metrics, DescribedFamilyWithoutSeries) {
  Registry r;
  r.describe("reelhub_http_rate_limited_total", "counter", "Requests refused with 429 by policy");
  EXPECT_EQ(r.render(),
            "# HELP reelhub_http_rate_limited_total Requests refused with 429 by policy\n"
            "# TYPE reelhub_http_rate_limited_total counter\n");
}

TEST(Metrics, ThreadsCountApartAndAScrapeSumsThem) {
  // Each thread updates its own shard; nothing may be lost or counted twice in the sum, and a
  // scrape while they run sees a consistent, growing total.
  Registry r;
  r.describe("work_total", "counter", "Work");
  r.describe("work_seconds", "histogram", "Work time", {1});
  constexpr int kThreads = 4;
  constexpr int kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&r] {
      for (int i = 0; i < kEach; ++i) {
        r.inc("work_total", {{"kind", "a"}});
        r.observe("work_seconds", {}, 0.5);
      }
    });
  double seen = 0;
  while (seen < kThreads * kEach) {
    const double now = r.value("work_total", {{"kind", "a"}});
    EXPECT_GE(now, seen);
    seen = now;
    if (seen < kThreads * kEach) std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.render(),
            "# HELP work_seconds Work time\n"
            "# TYPE work_seconds histogram\n"
            "work_seconds_bucket{le=\"1\"} 80000\n"
            "work_seconds_bucket{le=\"+Inf\"} 80000\n"
            "work_seconds_sum 40000\n"
            "work_seconds_count 80000\n"
            "# HELP work_total Work\n"
            "# TYPE work_total counter\n"
            "work_total{kind=\"a\"} 80000\n");
}

TEST(Metrics, ARegistryMadeWhereAnotherDiedStartsEmpty) {
  // Shards are found per thread by registry; a new registry must not inherit a dead one's.
  for (int round = 0; round < 3; ++round) {
    Registry r;
    r.inc("rounds_total");
    EXPECT_EQ(r.value("rounds_total"), 1);
  }
}

TEST(Metrics, BucketsStayFixedOnceAThreadObserved) {
  Registry r;
  r.observe("late_seconds", {}, 3);
  r.describe("late_seconds", "histogram", "Described late", {1});  // too late to change the layout
  const auto text = r.render();
  EXPECT_NE(text.find("late_seconds_bucket{le=\"5\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("late_seconds_bucket{le=\"2.5\"} 0\n"), std::string::npos) << text;  // default layout kept
  EXPECT_NE(text.find("# HELP late_seconds Described late\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace reelhub::metrics
