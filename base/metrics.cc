#include "base/metrics.h"

#include <cmath>
#include <cstdio>
#include <mutex>

namespace carnet {

namespace metrics_internal {
void AtomicDouble::Add(double v) {
  double old = v_.load(std::memory_order_relaxed);
  while (!v_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}
}  // namespace metrics_internal

HistogramSeries::HistogramSeries(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void HistogramSeries::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.Add(v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> HistogramSeries::Cumulative() const {
  std::vector<uint64_t> out(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

namespace {
template <typename Series>
std::unique_ptr<Series> MakeSeries(const std::vector<double>*) {
  return std::make_unique<Series>();
}
template <>
std::unique_ptr<HistogramSeries> MakeSeries<HistogramSeries>(const std::vector<double>* bounds) {
  return std::make_unique<HistogramSeries>(bounds);
}
}  // namespace

template <typename Series>
Series& Family<Series>::With(const std::vector<std::string>& values) {
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto& slot = series_[values];
  if (!slot) slot = MakeSeries<Series>(&bounds_);
  return *slot;
}

template <typename Series>
std::vector<std::pair<std::vector<std::string>, const Series*>> Family<Series>::Snapshot() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<std::pair<std::vector<std::string>, const Series*>> out;
  out.reserve(series_.size());
  for (const auto& [k, v] : series_) out.emplace_back(k, v.get());
  return out;
}

template class Family<CounterSeries>;
template class Family<GaugeSeries>;
template class Family<HistogramSeries>;

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

CounterFamily& MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = counters_[name];
  if (!slot) slot = std::make_unique<CounterFamily>(name, help, std::move(labels));
  return *slot;
}

GaugeFamily& MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = gauges_[name];
  if (!slot) slot = std::make_unique<GaugeFamily>(name, help, std::move(labels));
  return *slot;
}

HistogramFamily& MetricsRegistry::Histogram(const std::string& name, const std::string& help,
                                            std::vector<std::string> labels,
                                            std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = histograms_[name];
  if (!slot)
    slot = std::make_unique<HistogramFamily>(name, help, std::move(labels), std::move(bounds));
  return *slot;
}

void MetricsRegistry::OnCollect(std::function<void()> collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// {a="x",b="y"} (with `extra` appended, e.g. le="0.1"); empty when there are no labels.
std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     const std::string& extra = {}) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i)
    out += (out.empty() ? "" : ",") + names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? out : "{" + out + "}";
}

void Header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string MetricsRegistry::Render() {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c();
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : counters_) {
    Header(out, name, f->help(), "counter");
    for (const auto& [values, s] : f->Snapshot())
      out += name + LabelSet(f->labels(), values) + " " + Number(s->value()) + "\n";
  }
  for (const auto& [name, f] : gauges_) {
    Header(out, name, f->help(), "gauge");
    for (const auto& [values, s] : f->Snapshot())
      out += name + LabelSet(f->labels(), values) + " " + Number(s->value()) + "\n";
  }
  for (const auto& [name, f] : histograms_) {
    Header(out, name, f->help(), "histogram");
    for (const auto& [values, s] : f->Snapshot()) {
      std::vector<uint64_t> cumulative = s->Cumulative();
      for (size_t i = 0; i < cumulative.size(); ++i) {
        std::string le = i < f->bounds().size() ? Number(f->bounds()[i]) : "+Inf";
        out += name + "_bucket" + LabelSet(f->labels(), values, "le=\"" + le + "\"") + " " +
               std::to_string(cumulative[i]) + "\n";
      }
      out += name + "_sum" + LabelSet(f->labels(), values) + " " + Number(s->sum()) + "\n";
      out += name + "_count" + LabelSet(f->labels(), values) + " " +
             std::to_string(cumulative.back()) + "\n";
    }
  }
  return out;
}

MetricsRegistry& Metrics() {
  static MetricsRegistry* registry = new MetricsRegistry();  // never destroyed: used at exit
  return *registry;
}

}  // namespace carnet
