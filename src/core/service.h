// Service: footfall's request handler. Both the HTTP server and the Lambda adapter turn their
// input into a core::Request, call Handle(), and send back the core::Response; neither parses,
// hashes or talks to the store itself. Handle() never blocks: store work completes asynchronously.
// Thread-safe: Handle() may be called concurrently from any number of threads.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "core/client_address.h"
#include "core/cors.h"
#include "core/goals.h"
#include "core/http_message.h"
#include "core/rate_limiter.h"
#include "core/user_agent_cache.h"
#include "core/value_cap.h"
#include "core/visit_identity.h"
#include "store/store.h"

namespace footfall::core {

struct ServiceOptions {
  // Origins whose pages may count and read (CORS). Empty: none. "*" only if set explicitly.
  std::vector<std::string> allowed_origins;
  // Proxies whose X-Forwarded-For is believed (CIDRs). Empty (default): use the socket peer.
  std::vector<std::string> trusted_proxies;
  // The `site` of visits whose request has no Origin header (curl, same-origin pages). Empty
  // (default): the host of the first allowed origin, or "localhost" if there is none.
  std::string default_site;
  // Days a visit is kept before its expiration_time passes. Default 90, as in the seed.
  int retention_days = 90;
  // Bearer token that GET /api/stats requires. "" (default) with stats_public false: stats off.
  std::string stats_token;
  // Serve /api/stats without a token. Default false.
  bool stats_public = false;
  // The body of GET /metrics (Prometheus text exposition). Null (default): no /metrics route.
  std::function<std::string()> metrics_text;
  // Serve /metrics without the stats token (for a listener only Prometheus can reach). Default
  // false: /metrics needs the same bearer token as /api/stats (or stats_public).
  bool metrics_public = false;
  // Only /metrics (and OPTIONS): for the separate metrics listener. Default false.
  bool metrics_only = false;
  // Throttling of every route but /healthz, /readyz and /metrics: over the limit, 429 with
  // Retry-After, counted as a drop with reason rate_limited. Defaults: see RateLimitOptions.
  RateLimitOptions rate_limit;
  // Drop requests from HTTP libraries (HttpLibraryPatterns: curl, python-requests...) and without a
  // user agent, with reasons http_library and no_user_agent, instead of recording them as device
  // non_browser. Default false: the seed's own checks count with curl.
  bool drop_http_libraries = false;
  // Told of every request that was not recorded (with its reason) and of every recorded visit,
  // e.g. to count them in metrics. Optional; must be thread-safe and quick.
  std::function<void(std::string_view reason)> on_drop;
  std::function<void()> on_visit;
  // Goals whose conversions /api/stats reports (--goals). Default: none.
  Goals goals;
  // Distinct values kept per site, UTC day and family (event names, each event's property keys,
  // each property's values, each campaign parameter); more become "(other)", counted as the drop
  // too_many_values. Default 1,000 (--max-distinct-values).
  int max_distinct_values = 1000;
};

// The site of visits without an Origin header: `configured` if set, else the host of the first
// allowed origin that is not "*", else "localhost".
std::string DefaultSite(std::string_view configured, const std::vector<std::string>& allowed_origins);

// A route footfall answers, named as API Gateway names it: a prefix route's path ends in
// "{proxy+}". Every route also answers OPTIONS (the CORS preflight).
struct PublicRoute {
  std::string path;    // "/count", "/counter/{proxy+}"
  std::string method;  // "GET" or "POST"
  bool metrics = false;  // /metrics: served by `serve`, not behind API Gateway (EMF is the metrics
                         // path on AWS)
};

// What one maintenance run did: each step's outcome.
struct MaintenanceReport {
  StatusOr<int64_t> salts_deleted = int64_t{0};
  StatusOr<int64_t> visits_pruned = int64_t{0};
};

class Service {
 public:
  using Done = std::function<void(Response)>;

  // Errors: kInvalidArgument for a bad origin, CIDR or retention. The references must outlive
  // the Service.
  static StatusOr<std::unique_ptr<Service>> Create(ServiceOptions options, store::Store& store,
                                                   const Clock& clock, Random& random);

  // Answers `request`, calling `done` exactly once with the response — on the calling thread for
  // answers that need no store, otherwise on a store thread. `request` need not outlive the call.
  void Handle(const Request& request, Done done);

  // Maintenance that must not wait for traffic, run by a timer (serve) or a scheduled event
  // (Lambda): forgets the cached salt once it is older than yesterday's, deletes raw visits past
  // their expiration time, then deletes the store's salts of days before yesterday (so a salt
  // lives at most 48 h). Calls `done` once, on a store thread; the steps run one after the
  // other, and a failed step does not stop the next.
  void Maintain(store::Deadline deadline, std::function<void(MaintenanceReport)> done);

  // Every route Handle() answers, from the same table it routes by: the Terraform module's
  // routes.json is this list (`footfall routes`; a test compares them).
  static std::vector<PublicRoute> PublicRoutes();

  const CorsPolicy& cors() const { return cors_; }
  // Visitor buckets the rate limiter holds (for metrics).
  size_t rate_limiter_size() const { return limiter_.size(); }
  const std::string& default_site() const { return default_site_; }

 private:
  struct Route;
  Service(ServiceOptions options, CorsPolicy cors, TrustedProxies proxies, store::Store& store,
          const Clock& clock, Random& random);

  // What a visit-recording request says about the visit, before the checks every one gets.
  struct VisitInput {
    std::string site;
    std::optional<std::string> path;  // as sent; absent: from the Referer header, else "/"
    std::string referrer_url;         // document.referrer as sent
    std::string_view screen;          // screen-size class or ""
    std::string event;                // a custom event's name; "" for a page view
    std::vector<std::pair<std::string, std::string>> props;
    store::Campaign campaign;
  };

  void HandleRecordVisit(const Request& request, Done done);
  void HandleEvent(const Request& request, Done done);
  void HandleReadCount(const Request& request, Done done);
  void HandleHealth(const Request& request, Done done);
  void HandleReady(const Request& request, Done done);
  void HandleStats(const Request& request, Done done);
  void HandleCounter(const Request& request, Done done);
  void HandleCounterSnippet(const Request& request, Done done);
  void HandleMetrics(const Request& request, Done done);
  void HandleDashboard(const Request& request, Done done);
  // Authorizes, parses and validates a statistics request, queries the store, and answers with
  // what `render` makes of the result (or with the error).
  void AnswerStats(const Request& request, Done done,
                   std::function<void(const store::StatsQuery&, const store::Stats&, Response&)>
                       render);
  // Answers 401/403 through `done` and returns false unless the request may read statistics.
  bool AuthorizeStats(const Request& request, bool is_public, Done& done);

  // The site of requests from `origin`: its host, or the default site for "*"; nullopt when the
  // origin is not allowed.
  std::optional<std::string> SiteOfAllowedOrigin(std::string_view origin) const;
  // The site a visit-recording request counts for; or, for a request from another site's page,
  // answers 403 through `done`, counts the drop and returns nullopt.
  std::optional<std::string> SiteOfCounter(const Request& request, Done& done);

  // Validates `input` and the request's headers, then records the visit and answers with
  // recorded_answer(total, batch size); bots and prefetches are counted as drops and answered by
  // not_recorded_answer; invalid input gets 400.
  void RecordVisitFrom(const Request& request, VisitInput input, Done done,
                       std::function<Response(int64_t total, int batch)> recorded_answer,
                       std::function<void(Done)> not_recorded_answer);

  // Replaces the values of `visit` past the distinct-value bound with "(other)"; returns whether
  // any was.
  bool CapDistinctValues(store::Visit& visit, int64_t day);

  // Counts a request that was not recorded, by reason (best effort: never delays the answer).
  void RecordDrop(const std::string& site, TimePoint now, std::string_view reason);

  // Calls `then` with the visitor hasher for `day`'s salt, fetching (and agreeing on) the salt
  // through the store once per day. On a store error calls `then` with that error.
  void WithDailyHasher(int64_t day, store::Deadline deadline,
                       std::function<void(StatusOr<std::shared_ptr<const VisitorHasher>>)> then);

  static const std::vector<Route>& Routes();

  // Answers 429 through `done` (and counts the drop) when the request's client is over its
  // limit or everyone together is; returns false then.
  bool WithinRateLimit(const Request& request, Done& done);

  const ServiceOptions options_;
  const CorsPolicy cors_;
  const TrustedProxies proxies_;
  const std::string default_site_;
  store::Store& store_;
  const Clock& clock_;
  Random& random_;

  RateLimiter limiter_;
  std::array<uint8_t, 32> limiter_key_{};  // random: visitor keys are keyed hashes of addresses
  UserAgentCache user_agents_;  // classifications of recent user agents
  ValueCap value_cap_;          // distinct values kept per site and day

  std::mutex salt_mu_;
  int64_t salt_day_ = -1;                         // guarded by salt_mu_
  std::shared_ptr<const VisitorHasher> hasher_;  // guarded by salt_mu_: salt_day_'s
};

}  // namespace footfall::core
