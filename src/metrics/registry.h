// Registry: the metric families one process exports, and their rendering in the Prometheus text
// exposition format 0.0.4 (what GET /metrics returns). A Family is a named metric with declared
// label names; WithLabels() returns the series for one set of label values, a reference that
// stays valid as long as the Registry and that the hot path should cache. Thread-safety: every
// method may be called from any thread. Registering, WithLabels() and Render() take a mutex;
// updating a series through its cached reference never does (see metric.h).
//
// Cardinality is bounded: a family holds at most RegistryOptions::max_series_per_family series.
// WithLabels() for a new label set beyond the cap, or with label names that do not match the
// family's, returns the family's one overflow series, rendered with the single label
// overflow="true". Nothing is dropped: the overflow series counts whatever did not fit, and its
// presence in a scrape is the signal that a label is taking unbounded values.
//
// Usage:
//   Registry registry;
//   Family<Counter>& requests = *registry.AddCounter(
//       "footfall_http_requests_total", "HTTP requests answered.", {"route", "status"}).value();
//   Counter& ok = requests.WithLabels({"route", "/count"}, {"status", "200"});  // cache this
//   ok.Increment();
//   std::string body = registry.Render();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metrics/metric.h"

namespace footfall::metrics {

// One label of a series: WithLabels({"route", "/count"}, {"status", "200"}).
struct Label {
  std::string_view name;
  std::string_view value;
};

struct RegistryOptions {
  // Most series one family holds, not counting its overflow series. Default 1000.
  size_t max_series_per_family = 1000;
};

// Histogram bounds for request and store latencies in seconds: 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

// `count` bounds start, start*factor, start*factor^2, ... Precondition: start > 0, factor > 1.
std::vector<double> ExponentialBuckets(double start, double factor, size_t count);

namespace internal {

// What the Registry holds: something that renders itself.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  // The sample names it writes (a histogram writes name_bucket, name_sum, name_count).
  virtual std::vector<std::string> SampleNames() const { return {name_}; }
  // Appends the HELP and TYPE lines and every series; nothing when it has no series.
  virtual void Render(std::string& out) const = 0;

 protected:
  const std::string name_;
  const std::string help_;  // escaped for the HELP line
};

}  // namespace internal

// A metric and its series, one per distinct set of label values. M is Counter, Gauge or
// Histogram. Created by the Registry, which owns it.
template <typename M>
class Family final : public internal::FamilyBase {
 public:
  ~Family() override;

  // The series for these label values, created on first use (every value starts at 0). The
  // labels may come in any order but must name exactly the family's label names; otherwise, or
  // when the family is full, the result is the overflow series. Values that are not valid UTF-8
  // have the invalid bytes replaced by U+FFFD. Never fails; the reference lives as long as the
  // Registry.
  M& WithLabels(std::initializer_list<Label> labels);
  M& WithLabels(const Label& a) { return WithLabels({a}); }
  M& WithLabels(const Label& a, const Label& b) { return WithLabels({a, b}); }
  M& WithLabels(const Label& a, const Label& b, const Label& c) { return WithLabels({a, b, c}); }
  // The series of a family without labels.
  M& WithLabels() { return WithLabels(std::initializer_list<Label>{}); }

  // Series created so far, not counting the overflow series.
  size_t series_count() const;

  std::vector<std::string> SampleNames() const override;
  void Render(std::string& out) const override;

 private:
  friend class Registry;
  struct Series;

  // `help` is already escaped; the names and bounds are already checked.
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds, size_t max_series);
  std::unique_ptr<Series> NewSeries(std::string label_text) const;

  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;              // histograms only
  const std::vector<std::string> bound_labels_;   // `le="0.005"` per bound, then `le="+Inf"`
  const size_t max_series_;
  mutable std::mutex mu_;
  // Keyed by the label values in label_names_ order: the order Render() writes them in.
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
  std::unique_ptr<Series> overflow_;
};

class Registry {
 public:
  explicit Registry(RegistryOptions options = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a counter family. `name` must end in "_total" (promtool insists); `label_names`
  // are the labels every series has (none: one series, created now). The family is owned by the
  // registry and lives as long as it. Errors: kInvalidArgument for an invalid metric or label
  // name (including the reserved "overflow") or a repeated label name; kAlreadyExists when the
  // name, or a sample name it writes, is taken.
  StatusOr<Family<Counter>*> AddCounter(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names = {});

  // Registers a gauge family. Errors as AddCounter, without the "_total" rule.
  StatusOr<Family<Gauge>*> AddGauge(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names = {});

  // Registers a histogram family with these bucket upper bounds (+Inf is implicit). Errors as
  // AddGauge; also kInvalidArgument when `bounds` are not finite and strictly increasing or a
  // label is named "le".
  StatusOr<Family<Histogram>*> AddHistogram(std::string_view name, std::string_view help,
                                            std::vector<double> bounds,
                                            std::vector<std::string> label_names = {});

  // Registers an unlabelled gauge whose value is `read()` at each Render(), e.g. a queue length
  // owned elsewhere. `read` is called under the registry's mutex, from the rendering thread: it
  // must be thread-safe and must not call back into the registry. Errors as AddGauge.
  Status AddGaugeCallback(std::string_view name, std::string_view help,
                          std::function<double()> read);

  // Registers an unlabelled counter whose value is `read()` at each Render() (a count kept
  // elsewhere, which must never decrease). Rules as AddGaugeCallback, plus AddCounter's "_total".
  Status AddCounterCallback(std::string_view name, std::string_view help,
                            std::function<double()> read);

  // Every family with at least one series, sorted by name, in the text exposition format 0.0.4
  // (serve it with kExpositionContentType). Series within a family are sorted by label values,
  // the overflow series last.
  std::string Render() const;

 private:
  Status Insert(std::unique_ptr<internal::FamilyBase> family);
  template <typename M>
  StatusOr<Family<M>*> Add(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names, std::vector<double> bounds);

  const RegistryOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<internal::FamilyBase>, std::less<>> families_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace footfall::metrics
