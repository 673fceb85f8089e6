#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <span>
#include <type_traits>
#include <utility>

#include "metrics/exposition.h"

namespace footfall::metrics {
namespace {

constexpr std::string_view kOverflowLabel = "overflow";

std::string_view TypeName(const Counter*) { return "counter"; }
std::string_view TypeName(const Gauge*) { return "gauge"; }
std::string_view TypeName(const Histogram*) { return "histogram"; }

std::string EscapedHelp(std::string_view help) {
  std::string out;
  AppendEscapedHelp(ToValidUtf8(help), out);
  return out;
}

void AppendHeader(std::string_view name, std::string_view escaped_help, std::string_view type,
                  std::string& out) {
  out.append("# HELP ").append(name).append(" ").append(escaped_help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// `name{labels}` or `name` when there are none.
void AppendSeriesName(std::string_view name, std::string_view label_text, std::string& out) {
  out.append(name);
  if (!label_text.empty()) out.append("{").append(label_text).append("}");
}

void AppendValue(const Counter& counter, std::string& out) { AppendUint(counter.Value(), out); }
void AppendValue(const Gauge& gauge, std::string& out) { AppendDouble(gauge.Value(), out); }

// A counter or gauge: one sample.
template <typename M>
void RenderSeries(std::string_view name, std::string_view label_text, const M& metric,
                  std::span<const std::string>, std::string& out) {
  AppendSeriesName(name, label_text, out);
  out += ' ';
  AppendValue(metric, out);
  out += '\n';
}

void RenderSeries(std::string_view name, std::string_view label_text, const Histogram& histogram,
                  std::span<const std::string> bound_labels, std::string& out) {
  // _count is the +Inf bucket by construction, so the two always agree in one scrape.
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bound_labels.size(); ++i) {
    cumulative += histogram.BucketCount(i);
    out.append(name).append("_bucket{").append(label_text);
    if (!label_text.empty()) out += ',';
    out.append(bound_labels[i]).append("} ");
    AppendUint(cumulative, out);
    out += '\n';
  }
  const std::string sum_name = std::string(name) + "_sum";
  AppendSeriesName(sum_name, label_text, out);
  out += ' ';
  AppendDouble(histogram.Sum(), out);
  out += '\n';
  const std::string count_name = std::string(name) + "_count";
  AppendSeriesName(count_name, label_text, out);
  out += ' ';
  AppendUint(cumulative, out);
  out += '\n';
}

std::vector<std::string> BoundLabels(const std::vector<double>& bounds, bool is_histogram) {
  std::vector<std::string> labels;
  if (!is_histogram) return labels;
  for (double bound : bounds) {
    std::string label = "le=\"";
    AppendDouble(bound, label);
    label += '"';
    labels.push_back(std::move(label));
  }
  labels.push_back("le=\"+Inf\"");
  return labels;
}

// An unlabelled gauge or counter read from a function at each Render().
class CallbackMetric final : public internal::FamilyBase {
 public:
  CallbackMetric(std::string name, std::string help, const char* type,
                 std::function<double()> read)
      : FamilyBase(std::move(name), std::move(help)), type_(type), read_(std::move(read)) {}

  void Render(std::string& out) const override {
    AppendHeader(name_, help_, type_, out);
    out.append(name_).append(" ");
    AppendDouble(read_(), out);
    out += '\n';
  }

 private:
  const char* const type_;
  const std::function<double()> read_;
};

Status CheckNames(std::string_view name, const std::vector<std::string>& label_names,
                  bool is_histogram) {
  if (!IsValidMetricName(name)) {
    return InvalidArgumentError("invalid metric name \"" + std::string(name) + "\"");
  }
  std::set<std::string_view> seen;
  for (const std::string& label : label_names) {
    if (!IsValidLabelName(label) || label == kOverflowLabel || (is_histogram && label == "le")) {
      return InvalidArgumentError("invalid or reserved label name \"" + label + "\" for " +
                                  std::string(name));
    }
    if (!seen.insert(label).second) {
      return InvalidArgumentError("label \"" + label + "\" repeated for " + std::string(name));
    }
  }
  return OkStatus();
}

}  // namespace

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, size_t count) {
  std::vector<double> bounds;
  double bound = start;
  for (size_t i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

template <typename M>
struct Family<M>::Series {
  template <typename... Args>
  explicit Series(std::string text, Args&&... args)
      : label_text(std::move(text)), metric(std::forward<Args>(args)...) {}

  const std::string label_text;  // `route="/count",status="200"`, escaped; empty without labels
  M metric;
};

template <typename M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds, size_t max_series)
    : FamilyBase(std::move(name), std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      bound_labels_(BoundLabels(bounds_, std::is_same_v<M, Histogram>)),
      max_series_(max_series) {}

template <typename M>
Family<M>::~Family() = default;

template <typename M>
std::unique_ptr<typename Family<M>::Series> Family<M>::NewSeries(std::string label_text) const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return std::make_unique<Series>(std::move(label_text), std::span<const double>(bounds_));
  } else {
    return std::make_unique<Series>(std::move(label_text));
  }
}

template <typename M>
M& Family<M>::WithLabels(std::initializer_list<Label> labels) {
  // Values in label_names_ order, whatever order the caller gave them in.
  std::vector<std::string> values(label_names_.size());
  bool matches = labels.size() == label_names_.size();
  std::vector<bool> given(label_names_.size(), false);
  for (const Label& label : labels) {
    if (!matches) break;
    const auto it = std::find(label_names_.begin(), label_names_.end(), label.name);
    const size_t index = static_cast<size_t>(it - label_names_.begin());
    if (it == label_names_.end() || given[index]) {
      matches = false;
      break;
    }
    given[index] = true;
    values[index] = ToValidUtf8(label.value);
  }

  std::lock_guard lock(mu_);
  if (matches) {
    if (const auto it = series_.find(values); it != series_.end()) return it->second->metric;
    if (series_.size() < max_series_) {
      std::string text;
      for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) text += ',';
        text.append(label_names_[i]).append("=\"");
        AppendEscapedLabelValue(values[i], text);
        text += '"';
      }
      std::unique_ptr<Series> series = NewSeries(std::move(text));
      M& metric = series->metric;
      series_.emplace(std::move(values), std::move(series));
      return metric;
    }
  }
  if (!overflow_) overflow_ = NewSeries(std::string(kOverflowLabel) + "=\"true\"");
  return overflow_->metric;
}

template <typename M>
size_t Family<M>::series_count() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

template <typename M>
std::vector<std::string> Family<M>::SampleNames() const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return {name_ + "_bucket", name_ + "_sum", name_ + "_count"};
  } else {
    return {name_};
  }
}

template <typename M>
void Family<M>::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (series_.empty() && !overflow_) return;
  AppendHeader(name_, help_, TypeName(static_cast<const M*>(nullptr)), out);
  for (const auto& [values, series] : series_) {
    RenderSeries(name_, series->label_text, series->metric, bound_labels_, out);
  }
  if (overflow_) RenderSeries(name_, overflow_->label_text, overflow_->metric, bound_labels_, out);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Registry(RegistryOptions options) : options_(options) {}

Registry::~Registry() = default;

Status Registry::Insert(std::unique_ptr<internal::FamilyBase> family) {
  std::lock_guard lock(mu_);
  std::set<std::string> taken;
  for (const auto& [name, existing] : families_) {
    for (std::string& sample : existing->SampleNames()) taken.insert(std::move(sample));
    taken.insert(name);
  }
  std::vector<std::string> wanted = family->SampleNames();
  wanted.push_back(family->name());
  for (const std::string& sample : wanted) {
    if (taken.contains(sample)) {
      return AlreadyExistsError("metric name \"" + sample + "\" is already registered");
    }
  }
  const std::string name = family->name();
  families_.emplace(name, std::move(family));
  return OkStatus();
}

template <typename M>
StatusOr<Family<M>*> Registry::Add(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names,
                                   std::vector<double> bounds) {
  constexpr bool kIsHistogram = std::is_same_v<M, Histogram>;
  RETURN_IF_ERROR(CheckNames(name, label_names, kIsHistogram));
  if (std::is_same_v<M, Counter> && !name.ends_with("_total")) {
    return InvalidArgumentError("counter name \"" + std::string(name) + "\" must end in _total");
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      return InvalidArgumentError("histogram " + std::string(name) +
                                  ": bounds must be finite and strictly increasing");
    }
  }
  const bool unlabelled = label_names.empty();
  // Not make_unique: the constructor is private to the Registry.
  std::unique_ptr<Family<M>> family(new Family<M>(std::string(name), EscapedHelp(help),
                                                  std::move(label_names), std::move(bounds),
                                                  options_.max_series_per_family));
  if (unlabelled) family->WithLabels();  // an unlabelled metric is exported from the start, as 0
  Family<M>* result = family.get();
  RETURN_IF_ERROR(Insert(std::move(family)));
  return result;
}

StatusOr<Family<Counter>*> Registry::AddCounter(std::string_view name, std::string_view help,
                                                std::vector<std::string> label_names) {
  return Add<Counter>(name, help, std::move(label_names), {});
}

StatusOr<Family<Gauge>*> Registry::AddGauge(std::string_view name, std::string_view help,
                                            std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, std::move(label_names), {});
}

StatusOr<Family<Histogram>*> Registry::AddHistogram(std::string_view name, std::string_view help,
                                                    std::vector<double> bounds,
                                                    std::vector<std::string> label_names) {
  return Add<Histogram>(name, help, std::move(label_names), std::move(bounds));
}

Status Registry::AddGaugeCallback(std::string_view name, std::string_view help,
                                  std::function<double()> read) {
  RETURN_IF_ERROR(CheckNames(name, {}, false));
  if (!read) return InvalidArgumentError("gauge " + std::string(name) + ": no callback");
  return Insert(std::make_unique<CallbackMetric>(std::string(name), EscapedHelp(help), "gauge",
                                                 std::move(read)));
}

Status Registry::AddCounterCallback(std::string_view name, std::string_view help,
                                    std::function<double()> read) {
  RETURN_IF_ERROR(CheckNames(name, {}, false));
  if (!name.ends_with("_total")) {
    return InvalidArgumentError("counter " + std::string(name) + " must end in _total");
  }
  if (!read) return InvalidArgumentError("counter " + std::string(name) + ": no callback");
  return Insert(std::make_unique<CallbackMetric>(std::string(name), EscapedHelp(help),
                                                 "counter", std::move(read)));
}

std::string Registry::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) family->Render(out);
  return out;
}

}  // namespace footfall::metrics
