// The gateway's metrics: counters, gauges and histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
// One process-wide registry (Metrics()). A family is declared once, as a function-local
// static reference, by the layer that measures (`static auto& c = Metrics().Counter(...)`);
// a series (one set of label values) is looked up under a shared lock and then updated with
// atomics only, so that counting costs a few nanoseconds on the request path. Families and
// series are never removed: label values must come from small, fixed sets (a route template,
// a status code, an actor kind, a channel), never from what a caller writes.
//
// Thread-safe throughout.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace carnet {

namespace metrics_internal {
// A double updated atomically (compare-and-swap on its bits).
class AtomicDouble {
 public:
  void Add(double v);
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  double Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};
}  // namespace metrics_internal

class CounterSeries {
 public:
  void Inc(double n = 1) { v_.Add(n); }
  double value() const { return v_.Get(); }

 private:
  metrics_internal::AtomicDouble v_;
};

class GaugeSeries {
 public:
  void Set(double v) { v_.Set(v); }
  void Add(double n) { v_.Add(n); }
  double value() const { return v_.Get(); }

 private:
  metrics_internal::AtomicDouble v_;
};

class HistogramSeries {
 public:
  explicit HistogramSeries(const std::vector<double>* bounds);
  void Observe(double v);
  // Cumulative counts per upper bound (the last is +Inf), the sum and the count.
  std::vector<uint64_t> Cumulative() const;
  double sum() const { return sum_.Get(); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_->size() + 1 (+Inf)
  metrics_internal::AtomicDouble sum_;
  std::atomic<uint64_t> count_{0};
};

// One metric name with its help text, label names and series.
template <typename Series>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}

  // The series of these label values (as many as label names), created on first use.
  Series& With(const std::vector<std::string>& values);
  // The series without labels (a family declared with none).
  Series& Get() { return With({}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<double>& bounds() const { return bounds_; }
  // Every series, by label values (a snapshot of the pointers; series live as long as this).
  std::vector<std::pair<std::vector<std::string>, const Series*>> Snapshot() const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;  // guarded by mu_
};

using CounterFamily = Family<CounterSeries>;
using GaugeFamily = Family<GaugeSeries>;
using HistogramFamily = Family<HistogramSeries>;

// Bucket bounds in seconds for request and statement latencies: 1 ms to 10 s.
const std::vector<double>& LatencyBuckets();

class MetricsRegistry {
 public:
  // The family of this name, created on first call (later calls return the same one and
  // ignore their help, labels and bounds). Names follow Prometheus' rules: counters end in
  // _total, durations are in seconds (_seconds), sizes in bytes (_bytes).
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> labels = {});
  GaugeFamily& Gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> labels = {});
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> labels, std::vector<double> bounds);

  // A function run at every scrape, before rendering, to set gauges whose value is read
  // rather than counted (process memory, a table's backlog). Registered once; never removed,
  // so it must only touch what lives as long as the process (or check that it still does).
  void OnCollect(std::function<void()> collector);

  // Runs the collectors, then writes every family in the text exposition format.
  std::string Render();

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<CounterFamily>> counters_;
  std::map<std::string, std::unique_ptr<GaugeFamily>> gauges_;
  std::map<std::string, std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<std::function<void()>> collectors_;
};

// The process-wide registry.
MetricsRegistry& Metrics();

// Escapes a label value for the exposition format (backslash, double quote, newline).
std::string EscapeLabelValue(const std::string& v);

}  // namespace carnet
