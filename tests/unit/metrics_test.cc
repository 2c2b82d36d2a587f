// base/metrics.h (the exposition format) and the route templates of server/observability.h.
#include "base/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "server/observability.h"

namespace carnet {
namespace {

TEST(MetricsTest, CountersGaugesAndHistogramsRenderAsPrometheusText) {
  MetricsRegistry r;
  auto& c = r.Counter("t_requests_total", "requests", {"route", "status"});
  c.With({"/a", "200"}).Inc();
  c.With({"/a", "200"}).Inc(2);
  c.With({"/b\"x", "500"}).Inc();
  r.Gauge("t_open", "open").Get().Set(3);
  auto& h = r.Histogram("t_seconds", "latency", {}, {0.1, 1});
  h.Get().Observe(0.05);
  h.Get().Observe(0.5);
  h.Get().Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("# HELP t_requests_total requests\n# TYPE t_requests_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("t_requests_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_requests_total{route=\"/b\\\"x\",status=\"500\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE t_open gauge\nt_open 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_sum 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_count 3\n"), std::string::npos) << text;
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry r;
  auto& c = r.Counter("t_total", "n", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 10000; ++i) c.With({t % 2 ? "a" : "b"}).Inc();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.With({"a"}).value() + c.With({"b"}).value(), 40000);
}

TEST(MetricsTest, CollectorsRunAtEachRender) {
  MetricsRegistry r;
  auto& g = r.Gauge("t_read", "read at scrape").Get();
  int calls = 0;
  r.OnCollect([&] { g.Set(++calls); });
  EXPECT_NE(r.Render().find("t_read 1\n"), std::string::npos);
  EXPECT_NE(r.Render().find("t_read 2\n"), std::string::npos);
}

TEST(MetricsTest, RouteTemplatesNeverCarryIdsOrSecrets) {
  EXPECT_EQ(RouteTemplate("/fhir"), "/fhir");
  EXPECT_EQ(RouteTemplate("/fhir/metadata"), "/fhir/metadata");
  EXPECT_EQ(RouteTemplate("/fhir/Patient"), "/fhir/Patient");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/123"), "/fhir/Patient/{id}");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/123/_history/2"), "/fhir/Patient/{id}/_history/{vid}");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/123/$everything"), "/fhir/Patient/{id}/$everything");
  EXPECT_EQ(RouteTemplate("/fhir/Patient/$nonsense-op"), "/fhir/Patient/$operation");
  EXPECT_EQ(RouteTemplate("/fhir/NotAType/1"), "/fhir/{type}/{id}");
  EXPECT_EQ(RouteTemplate("/fhir/Observation/_search"), "/fhir/Observation/_search");
  EXPECT_EQ(RouteTemplate("/agenda/s3cr3t.ics"), "/agenda/{secret}.ics");
  EXPECT_EQ(RouteTemplate("/espace/assets/x.js"), "/espace/*");
  EXPECT_EQ(RouteTemplate("/xds/registry"), "/xds/registry");
  EXPECT_EQ(RouteTemplate("/metrics"), "/metrics");
  EXPECT_EQ(RouteTemplate("/wp-admin/login.php"), "other");
}

}  // namespace
}  // namespace carnet
