#include "core/service.h"

#include <chrono>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>

#include "base/base64.h"
#include "core/badge.h"
#include "core/campaign.h"
#include "core/counter_snippet.h"
#include "core/dashboard.h"
#include "core/event_body.h"
#include "core/responses.h"
#include "core/stats_api.h"
#include "core/text.h"
#include "core/url.h"
#include "core/user_agent.h"
#include "core/visit_identity.h"
#include "store/stats_rollup.h"

namespace footfall::core {

// One row of the route table: the path (or, for prefix rows, its start), the name logs use,
// the method it answers besides OPTIONS, and its handler.
struct Service::Route {
  std::string_view path;
  std::string_view name;  // for logs
  std::string_view method;
  void (Service::*handle)(const Request&, Done);
  bool prefix = false;
};

const std::vector<Service::Route>& Service::Routes() {
  static const std::vector<Route> routes = {
      {"/count", "/count", "GET", &Service::HandleRecordVisit},
      {"/api/count", "/api/count", "GET", &Service::HandleReadCount},
      {"/api/event", "/api/event", "POST", &Service::HandleEvent},
      {"/healthz", "/healthz", "GET", &Service::HandleHealth},
      {"/readyz", "/readyz", "GET", &Service::HandleReady},
      {"/api/stats", "/api/stats", "GET", &Service::HandleStats},
      {"/metrics", "/metrics", "GET", &Service::HandleMetrics},
      {"/dashboard", "/dashboard", "GET", &Service::HandleDashboard},
      {"/counter/", "/counter/{path}", "GET", &Service::HandleCounter, /*prefix=*/true},
      {"/counter.js", "/counter.js", "GET", &Service::HandleCounterSnippet},
      {"/counter.min.js", "/counter.min.js", "GET", &Service::HandleCounterSnippet},
  };
  return routes;
}

std::vector<PublicRoute> Service::PublicRoutes() {
  std::vector<PublicRoute> routes;
  for (const Route& route : Routes()) {
    std::string path(route.path);
    if (route.prefix) path += "{proxy+}";
    routes.push_back({std::move(path), std::string(route.method),
                      route.handle == &Service::HandleMetrics});
  }
  return routes;
}

std::string DefaultSite(std::string_view configured, const std::vector<std::string>& allowed_origins) {
  if (!configured.empty()) return std::string(configured);
  for (const std::string& origin : allowed_origins) {
    if (origin == "*") continue;
    if (std::optional<Url> url = ParseHttpUrl(origin)) return url->host;
  }
  return "localhost";
}

StatusOr<std::unique_ptr<Service>> Service::Create(ServiceOptions options, store::Store& store,
                                                   const Clock& clock, Random& random) {
  ASSIGN_OR_RETURN(CorsPolicy cors, CorsPolicy::Create(options.allowed_origins));
  ASSIGN_OR_RETURN(TrustedProxies proxies, TrustedProxies::Create(options.trusted_proxies));
  if (options.retention_days < 1 || options.retention_days > 36500) {
    return InvalidArgumentError("retention days must be between 1 and 36500");
  }
  return std::unique_ptr<Service>(new Service(std::move(options), std::move(cors),
                                              std::move(proxies), store, clock, random));
}

Service::Service(ServiceOptions options, CorsPolicy cors, TrustedProxies proxies,
                 store::Store& store, const Clock& clock, Random& random)
    : options_(std::move(options)),
      cors_(std::move(cors)),
      proxies_(std::move(proxies)),
      default_site_(DefaultSite(options_.default_site, cors_.origins())),
      store_(store),
      clock_(clock),
      random_(random),
      limiter_(options_.rate_limit),
      value_cap_(options_.max_distinct_values) {
  random_.Fill(limiter_key_);
}

void Service::Handle(const Request& request, Done done) {
  const std::optional<std::string_view> origin = request.FindHeader("Origin");
  const std::string_view path = SplitTarget(request.target).path;
  const Route* route = nullptr;
  for (const Route& candidate : Routes()) {
    if (candidate.prefix ? path.starts_with(candidate.path) : candidate.path == path) {
      route = &candidate;
    }
  }
  // Every answer carries the same CORS handling, errors included, so browsers can read them.
  std::optional<std::string> origin_copy(origin);
  std::string route_name(route ? route->name : "unknown");
  Done finish = [this, origin_copy = std::move(origin_copy), route_name,
                 done = std::move(done)](Response response) {
    cors_.AddResponseHeaders(origin_copy, response);
    // Every answer declares its type: browsers must not guess another.
    response.AddHeader("X-Content-Type-Options", "nosniff");
    response.route = route_name;
    done(std::move(response));
  };

  if (route == nullptr || (route->handle == &Service::HandleMetrics && !options_.metrics_text) ||
      (options_.metrics_only && route->handle != &Service::HandleMetrics)) {
    finish(ErrorResponse(404, "not_found", "No such route."));
    return;
  }
  const std::string allowed_methods = std::string(route->method) + ", OPTIONS";
  if (request.method == "OPTIONS") {
    Response response;
    response.status = 204;
    cors_.AddPreflightHeaders(origin, allowed_methods, response);
    finish(std::move(response));
    return;
  }
  if (request.method != route->method) {
    Response response = ErrorResponse(405, "method_not_allowed", "Use " + allowed_methods + ".");
    response.AddHeader("Allow", allowed_methods);
    finish(std::move(response));
    return;
  }
  const bool operational = route->handle == &Service::HandleHealth ||
                           route->handle == &Service::HandleReady ||
                           route->handle == &Service::HandleMetrics;
  if (!operational && !WithinRateLimit(request, finish)) return;
  (this->*(route->handle))(request, std::move(finish));
}

std::optional<std::string> Service::SiteOfAllowedOrigin(std::string_view origin) const {
  std::optional<std::string> allowed = cors_.AllowOriginFor(origin);
  if (!allowed) return std::nullopt;
  return *allowed == "*" ? default_site_ : ParseHttpUrl(*allowed)->host;
}

std::optional<std::string> Service::SiteOfCounter(const Request& request, Done& done) {
  const std::optional<std::string_view> origin = request.FindHeader("Origin");
  if (origin) {
    if (std::optional<std::string> site = SiteOfAllowedOrigin(*origin)) return site;
    // Counting visits that pages of other sites send would let anyone inflate the count.
  } else if (request.FindHeader("Sec-Fetch-Site").value_or("") != "cross-site") {
    return default_site_;
  }
  // No Origin, yet the browser says another site's page made this request (an <img> or <script>
  // tag carries no Origin): refused for the same reason.
  RecordDrop(default_site_, clock_.Now(), "foreign_origin");
  done(ErrorResponse(403, "origin_not_allowed", "This origin may not record visits."));
  return std::nullopt;
}

void Service::HandleRecordVisit(const Request& request, Done done) {
  std::optional<std::string> site = SiteOfCounter(request, done);
  if (!site) return;
  StatusOr<QueryParameters> params = ParseQuery(SplitTarget(request.target).query);
  if (!params.ok()) {
    RecordDrop(*site, clock_.Now(), "invalid");
    return done(ErrorResponse(400, "invalid_query", "The query string is malformed."));
  }
  VisitInput input;
  input.site = *std::move(site);
  if (std::optional<std::string_view> path = FindParameter(*params, "path")) input.path = *path;
  input.referrer_url = FindParameter(*params, "ref").value_or("");
  int screen_width = 0;
  if (std::optional<std::string_view> screen = FindParameter(*params, "screen")) {
    auto [end, ec] = std::from_chars(screen->data(), screen->data() + screen->size(), screen_width);
    if (ec != std::errc() || end != screen->data() + screen->size() || screen_width < 0 ||
        screen_width > 100000) {
      screen_width = 0;  // a hint only: a bad one is ignored, the visit still counts
    }
  }
  input.screen = ScreenClass(screen_width);
  input.campaign = CampaignFromParameters(*params, /*page_url=*/false);
  RecordVisitFrom(request, std::move(input), std::move(done), [](int64_t total, int batch) {
    Response response = CountResponse(total);
    response.store_batch_size = batch;
    return response;
  }, [this, &request](Done answer) { HandleReadCount(request, std::move(answer)); });
}

void Service::HandleEvent(const Request& request, Done done) {
  std::optional<std::string> site = SiteOfCounter(request, done);
  if (!site) return;
  // sendBeacon posts text/plain (no CORS preflight); JSON is accepted as well.
  const std::string_view content_type = request.FindHeader("Content-Type").value_or("text/plain");
  const std::string_view media_type = content_type.substr(0, content_type.find(';'));
  if (!EqualsIgnoreCase(media_type, "text/plain") && !EqualsIgnoreCase(media_type, "application/json")) {
    RecordDrop(*site, clock_.Now(), "invalid");
    return done(ErrorResponse(415, "unsupported_media_type",
                              "Send the event as text/plain or application/json."));
  }
  if (request.body.size() > kMaxEventBodyBytes) {
    RecordDrop(*site, clock_.Now(), "invalid");
    return done(ErrorResponse(413, "body_too_large",
                              "An event body is at most " + std::to_string(kMaxEventBodyBytes) +
                                  " bytes."));
  }
  StatusOr<EventBody> event = ParseEventBody(request.body);
  if (!event.ok()) {
    RecordDrop(*site, clock_.Now(), "invalid");
    return done(ErrorResponse(400, "invalid_event", event.status().message()));
  }
  VisitInput input;
  input.site = *std::move(site);
  input.path = std::move(event->path);
  input.referrer_url = std::move(event->referrer);
  input.screen = ScreenClass(event->screen_width);
  input.event = std::move(event->name);
  input.props = std::move(event->props);
  input.campaign = std::move(event->campaign);
  if (event->url) {
    // The page URL (Plausible's trackers send it): its path when none was sent, and its
    // campaign parameters where "utm" left them out.
    std::optional<Url> url = ParseHttpUrl(*event->url);
    if (!url) {
      RecordDrop(input.site, clock_.Now(), "invalid");
      return done(ErrorResponse(400, "invalid_event", "url must be an absolute http(s) URL"));
    }
    if (!input.path) {
      std::string path = url->path.empty() ? "/" : url->path;
      // A hash router's route is in the fragment (Plausible's "h": 1).
      if (const size_t hash = event->url->find('#'); event->hash_mode && hash != std::string::npos) {
        path += event->url->substr(hash);
      }
      StatusOr<std::string> decoded = PercentDecode(path, false);
      if (!decoded.ok()) {
        RecordDrop(input.site, clock_.Now(), "invalid");
        return done(ErrorResponse(400, "invalid_event", "url has a malformed path"));
      }
      input.path = *std::move(decoded);
    }
    if (StatusOr<QueryParameters> params = ParseQuery(url->query); params.ok()) {
      FillCampaign(input.campaign, CampaignFromParameters(*params, /*page_url=*/true));
    }
  }
  // Plausible's trackers get Plausible's own answer: 202 with the text "ok".
  const bool plausible = event->plausible;
  auto answer = [plausible] {
    if (!plausible) return AcceptedResponse();
    Response response;
    response.status = 202;
    response.AddHeader("Content-Type", "text/plain; charset=utf-8");
    response.body = "ok";
    return response;
  };
  auto accepted = [answer](int64_t, int batch) {
    Response response = answer();
    response.store_batch_size = batch;
    return response;
  };
  RecordVisitFrom(request, std::move(input), std::move(done), accepted,
                  [answer](Done done_without_recording) { done_without_recording(answer()); });
}

void Service::RecordVisitFrom(const Request& request, VisitInput input, Done done,
                              std::function<Response(int64_t total, int batch)> recorded_answer,
                              std::function<void(Done)> not_recorded_answer) {
  std::string page = "/";
  if (input.path) {
    StatusOr<std::string> normalized = NormalizePagePath(*input.path);
    if (!normalized.ok()) {
      RecordDrop(input.site, clock_.Now(), "invalid");
      return done(ErrorResponse(
          400, "invalid_path", "path must be an absolute page path of valid UTF-8, at most 512 bytes."));
    }
    page = *std::move(normalized);
  } else if (std::optional<std::string_view> referer = request.FindHeader("Referer")) {
    // A Referer is the browser's, not the caller's choice: if it is unusable, count the visit on
    // "/" rather than reject it.
    if (std::optional<Url> url = ParseHttpUrl(*referer)) {
      StatusOr<std::string> decoded = PercentDecode(url->path.empty() ? "/" : url->path, false);
      if (decoded.ok()) {
        StatusOr<std::string> normalized = NormalizePagePath(*decoded);
        if (normalized.ok()) page = *std::move(normalized);
      }
    }
  }

  StatusOr<std::string> user_agent = SanitizeUserAgent(request.FindHeader("User-Agent").value_or(""));
  if (!user_agent.ok()) {
    RecordDrop(input.site, clock_.Now(), "invalid");
    return done(ErrorResponse(400, "invalid_user_agent", "The User-Agent header is not valid UTF-8."));
  }

  // Crawlers, headless browsers, link previews, monitors, feed readers, scanners and speculative
  // prefetches are not visits: they get the usual answer, are counted by reason, and are not
  // recorded. Scripts and HTTP libraries (curl, server-side calls) do count, marked as
  // non-browser, unless the options drop them too.
  const UserAgentInfo agent = user_agents_.Classify(*user_agent);
  std::string_view drop_reason;
  if (IsPrefetch(request.FindHeader("Purpose"), request.FindHeader("Sec-Purpose"),
                 request.FindHeader("X-Moz"))) {
    drop_reason = "prefetch";
  } else {
    drop_reason = DropReason(agent, options_.drop_http_libraries);
  }
  if (!drop_reason.empty()) {
    RecordDrop(input.site, clock_.Now(), drop_reason);
    return not_recorded_answer(std::move(done));
  }

  std::string referrer;
  if (std::optional<Url> url = ParseHttpUrl(input.referrer_url); url && url->host != input.site) {
    referrer = url->host;
  }

  const std::string client =
      proxies_.ResolveClient(request.peer_address, request.FindHeader("X-Forwarded-For"),
                             request.FindHeader("Forwarded"));
  const TimePoint now = clock_.Now();

  store::Visit visit;
  visit.visit_id = NewUuidV7(now, random_);
  visit.timestamp = FormatIso8601Millis(now);
  visit.time_ms = UnixMillis(now);
  visit.browser = std::string(agent.browser);
  visit.os = std::string(agent.os);
  visit.device = std::string(VisitDeviceClass(agent));
  visit.screen = std::string(input.screen);
  // Browsers send Origin on cross-origin requests; its absence means curl, a script, a server
  // or a same-origin page.
  visit.source = request.FindHeader("Origin") ? "origin" : "no_origin";
  visit.user_agent = *std::move(user_agent);
  visit.path = std::move(page);
  visit.referrer = std::move(referrer);
  visit.site = std::move(input.site);
  visit.event = std::move(input.event);
  visit.props = std::move(input.props);
  if (visit.is_page_view()) visit.campaign = std::move(input.campaign);
  visit.goals = options_.goals.ReachedBy(visit);
  if (CapDistinctValues(visit, UtcDayNumber(now))) RecordDrop(visit.site, now, "too_many_values");
  visit.expiration_time =
      std::chrono::duration_cast<std::chrono::seconds>(
          (now + std::chrono::days(options_.retention_days)).time_since_epoch())
          .count();

  const store::Deadline deadline = request.deadline;
  WithDailyHasher(UtcDayNumber(now), deadline,
                [this, client, deadline, visit = std::move(visit), done = std::move(done),
                 recorded_answer = std::move(recorded_answer)](
                    StatusOr<std::shared_ptr<const VisitorHasher>> hasher) mutable {
                  if (!hasher.ok()) return done(StoreFailureResponse(hasher.status()));
                  visit.visitor = (*hasher)->Hash(client, visit.user_agent, visit.site);
                  for (const auto& [key, value] : visit.props) {
                    if (value.find(visit.visitor) != std::string::npos) {
                      return done(ErrorResponse(400, "invalid_event",
                                                "props." + key + " holds the visitor's hash"));
                    }
                  }
                  store_.RecordVisit(
                      std::move(visit), deadline,
                      [this, done = std::move(done), recorded_answer = std::move(recorded_answer)](
                          StatusOr<store::RecordedVisit> recorded) {
                        if (!recorded.ok()) return done(StoreFailureResponse(recorded.status()));
                        if (options_.on_visit) options_.on_visit();
                        Response response = recorded_answer(recorded->total, recorded->batch_size);
                        response.used_store = true;
                        done(std::move(response));
                      });
                });
}

bool Service::CapDistinctValues(store::Visit& visit, int64_t day) {
  bool capped = false;
  auto admit = [&](const std::string& family, std::string& value) {
    if (value.empty() || value_cap_.Admit(day, visit.site, family, value)) return;
    value = std::string(kOtherValue);
    capped = true;
  };
  if (!visit.is_page_view()) admit("event", visit.event);
  const std::string event(store::PropEventName(visit));
  for (auto& [key, value] : visit.props) {
    admit("key\x1f" + event, key);
    admit("prop\x1f" + event + '\x1f' + key, value);
  }
  if (capped) {
    // Keys that became "(other)" keep only the first of them; the order stays sorted.
    std::sort(visit.props.begin(), visit.props.end());
    visit.props.erase(std::unique(visit.props.begin(), visit.props.end(),
                                  [](const auto& a, const auto& b) { return a.first == b.first; }),
                      visit.props.end());
  }
  admit("utm_source", visit.campaign.source);
  admit("utm_medium", visit.campaign.medium);
  admit("utm_campaign", visit.campaign.name);
  admit("utm_content", visit.campaign.content);
  admit("utm_term", visit.campaign.term);
  return capped;
}

void Service::HandleReadCount(const Request& request, Done done) {
  store_.ReadTotal(request.deadline, [done = std::move(done)](StatusOr<int64_t> total) {
    if (!total.ok()) return done(StoreFailureResponse(total.status()));
    Response response = CountResponse(*total);
    response.used_store = true;
    done(std::move(response));
  });
}

void Service::HandleCounter(const Request& request, Done done) {
  // The public per-page counter: read-only and cacheable.
  StatusOr<CounterTarget> parsed = *ParseCounterTarget(SplitTarget(request.target).path);
  if (!parsed.ok()) return done(ErrorResponse(400, "invalid_path", parsed.status().message()));
  const CounterTarget target = *std::move(parsed);
  StatusOr<QueryParameters> params = ParseQuery(SplitTarget(request.target).query);
  const std::string site =
      params.ok() ? std::string(FindParameter(*params, "site").value_or(default_site_))
                  : default_site_;
  const std::string if_none_match(request.FindHeader("If-None-Match").value_or(""));
  store_.ReadPageViews(
      site, target.path, request.deadline,
      [target, if_none_match, done = std::move(done)](StatusOr<int64_t> views) {
        if (!views.ok()) return done(StoreFailureResponse(views.status()));
        Response response;
        response.used_store = true;
        const std::string etag = "W/\"" + std::to_string(*views) + "\"";
        response.AddHeader("ETag", etag);
        // Short enough to look live, long enough for image proxies (GitHub's camo) to help.
        response.AddHeader("Cache-Control", "public, max-age=60");
        if (if_none_match == etag) {
          response.status = 304;
          return done(std::move(response));
        }
        if (target.format == CounterFormat::kSvg) {
          response.AddHeader("Content-Type", "image/svg+xml");
          // The badge is an image: no scripts, even if opened directly.
          response.AddHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
          response.body = CounterBadgeSvg("visits", *views);
        } else {
          response.AddHeader("Content-Type", "application/json");
          response.body = "{\"path\": " + JsonQuote(target.path) +
                          ", \"views\": " + std::to_string(*views) + "}";
        }
        done(std::move(response));
      });
}

void Service::HandleCounterSnippet(const Request& request, Done done) {
  done(CounterSnippetResponse(request.FindHeader("If-None-Match")));
}

void Service::HandleHealth(const Request&, Done done) {
  Response response;
  response.AddHeader("Content-Type", "application/json");
  response.body = "{\"status\": \"ok\"}";
  done(std::move(response));
}

void Service::HandleReady(const Request& request, Done done) {
  store_.CheckReady(request.deadline, [done = std::move(done)](Status status) {
    if (!status.ok()) {
      done(StoreFailureResponse(status));
      return;
    }
    Response response;
    response.used_store = true;
    response.AddHeader("Content-Type", "application/json");
    response.body = "{\"status\": \"ready\"}";
    done(std::move(response));
  });
}

bool Service::WithinRateLimit(const Request& request, Done& done) {
  if (options_.rate_limit.visitor_per_minute <= 0 && options_.rate_limit.global_per_second <= 0) {
    return true;
  }
  const std::string client =
      proxies_.ResolveClient(request.peer_address, request.FindHeader("X-Forwarded-For"),
                             request.FindHeader("Forwarded"));
  // A keyed hash, so the limiter holds no address and nobody can aim keys at one shard.
  uint8_t digest[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), limiter_key_.data(), static_cast<int>(limiter_key_.size()),
       reinterpret_cast<const uint8_t*>(client.data()), client.size(), digest, &length);
  uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | digest[i];
  const TimePoint now = clock_.Now();
  const std::optional<int> retry_after = limiter_.Acquire(key, now);
  if (!retry_after) return true;
  const std::optional<std::string_view> origin = request.FindHeader("Origin");
  RecordDrop(origin ? SiteOfAllowedOrigin(*origin).value_or(default_site_) : default_site_, now,
             "rate_limited");
  Response response = ErrorResponse(429, "rate_limited", "Too many requests; retry later.");
  response.AddHeader("Retry-After", std::to_string(*retry_after));
  done(std::move(response));
  return false;
}

void Service::RecordDrop(const std::string& site, TimePoint now, std::string_view reason) {
  if (options_.on_drop) options_.on_drop(reason);
  store_.RecordDrop(site, UnixMillis(now), std::string(reason), store::kNoDeadline, [](Status) {});
}

namespace {

// Compares secrets in time independent of where they differ (and of their lengths): both are
// hashed first, then compared with CRYPTO_memcmp.
bool SecretsEqual(std::string_view a, std::string_view b);

// The secret an Authorization header presents: a Bearer token, or the password of Basic
// credentials (any user name). "" when there is none.
std::string PresentedToken(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ", kBasic = "Basic ";
  if (authorization.starts_with(kBearer)) return std::string(authorization.substr(kBearer.size()));
  if (!authorization.starts_with(kBasic)) return "";
  const std::string_view encoded = authorization.substr(kBasic.size());
  if (encoded.size() > 1024) return "";
  const std::optional<std::string> decoded = Base64Decode(encoded);
  const size_t colon = decoded ? decoded->find(':') : std::string::npos;
  return colon == std::string::npos ? "" : decoded->substr(colon + 1);
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  unsigned char digest_a[SHA256_DIGEST_LENGTH], digest_b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), digest_a);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), digest_b);
  return CRYPTO_memcmp(digest_a, digest_b, sizeof digest_a) == 0;
}

}  // namespace

bool Service::AuthorizeStats(const Request& request, bool is_public, Done& done) {
  if (is_public) return true;
  if (options_.stats_token.empty()) {
    done(ErrorResponse(403, "stats_disabled",
                       "Statistics are off: set a stats token (FOOTFALL_STATS_TOKEN)."));
    return false;
  }
  if (!SecretsEqual(PresentedToken(request.FindHeader("Authorization").value_or("")),
                    options_.stats_token)) {
    Response response = ErrorResponse(401, "unauthorized", "A valid bearer token is required.");
    // Browsers prompt for Basic (the dashboard); programs send Bearer. Basic comes first: behind
    // an HTTP API the two are joined into one header line, and a browser reads its first
    // challenge.
    response.AddHeader("WWW-Authenticate", "Basic realm=\"footfall\", charset=\"UTF-8\"");
    response.AddHeader("WWW-Authenticate", "Bearer realm=\"footfall\"");
    done(std::move(response));
    return false;
  }
  return true;
}

void Service::AnswerStats(const Request& request, Done done,
                          std::function<void(const store::StatsQuery&, const store::Stats&,
                                             Response&)> render) {
  if (!AuthorizeStats(request, options_.stats_public, done)) return;
  StatusOr<QueryParameters> params = ParseQuery(SplitTarget(request.target).query);
  if (!params.ok()) return done(ErrorResponse(400, "invalid_query", "The query string is malformed."));
  StatusOr<store::StatsQuery> query = ParseStatsQuery(*params, clock_.Now(), default_site_);
  if (!query.ok()) return done(ErrorResponse(400, "invalid_stats_query", query.status().message()));
  store_.QueryStats(*query, request.deadline,
                    [this, query = *query, done = std::move(done),
                     render = std::move(render)](StatusOr<store::Stats> stats) {
                      if (!stats.ok()) return done(StoreFailureResponse(stats.status()));
                      ListConfiguredGoals(options_.goals, *stats);
                      Response response;
                      response.used_store = true;
                      response.AddHeader("Cache-Control", "no-store");
                      render(query, *stats, response);
                      done(std::move(response));
                    });
}

void Service::HandleDashboard(const Request& request, Done done) {
  AnswerStats(request, std::move(done), [](const store::StatsQuery& query,
                                           const store::Stats& stats, Response& response) {
    response.AddHeader("Content-Type", "text/html; charset=utf-8");
    response.AddHeader("Content-Security-Policy", DashboardContentSecurityPolicy());
    response.AddHeader("X-Frame-Options", "DENY");
    response.AddHeader("Referrer-Policy", "no-referrer");
    response.body = RenderDashboard(query, stats);
  });
}

void Service::HandleMetrics(const Request& request, Done done) {
  if (!AuthorizeStats(request, options_.stats_public || options_.metrics_public, done)) return;
  Response response;
  response.AddHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.AddHeader("Cache-Control", "no-store");
  response.body = options_.metrics_text();
  done(std::move(response));
}

void Service::HandleStats(const Request& request, Done done) {
  AnswerStats(request, std::move(done), [](const store::StatsQuery& query,
                                           const store::Stats& stats, Response& response) {
    response.AddHeader("Content-Type", "application/json");
    response.body = FormatStatsJson(query, stats);
  });
}

void Service::Maintain(store::Deadline deadline, std::function<void(MaintenanceReport)> done) {
  const TimePoint now = clock_.Now();
  const int64_t first_kept_day = UtcDayNumber(now) - 1;
  {
    std::lock_guard lock(salt_mu_);
    if (salt_day_ < first_kept_day) {
      salt_day_ = -1;
      hasher_.reset();
    }
  }
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // Pruning first: the salts step ends with the engine's own clean-up (SQLite's WAL truncation),
  // which then covers the pruned visits too.
  store_.PruneExpired(
      now_seconds, deadline,
      [this, first_kept_day, deadline, done = std::move(done)](StatusOr<int64_t> pruned) mutable {
        store_.DeleteSaltsBefore(first_kept_day, deadline,
                                 [pruned = std::move(pruned), done = std::move(done)](
                                     StatusOr<int64_t> salts) mutable {
                                   done(MaintenanceReport{std::move(salts), std::move(pruned)});
                                 });
      });
}

void Service::WithDailyHasher(
    int64_t day, store::Deadline deadline,
    std::function<void(StatusOr<std::shared_ptr<const VisitorHasher>>)> then) {
  std::shared_ptr<const VisitorHasher> cached;
  {
    std::lock_guard lock(salt_mu_);
    if (salt_day_ == day) cached = hasher_;
  }
  if (cached) {
    then(std::move(cached));
    return;
  }
  store::Salt candidate;
  random_.Fill(candidate);
  store_.GetOrCreateDailySalt(
      day, candidate, deadline, [this, day, then = std::move(then)](StatusOr<store::Salt> salt) {
        if (!salt.ok()) return then(salt.status());
        auto hasher = std::make_shared<const VisitorHasher>(*salt);
        {
          std::lock_guard lock(salt_mu_);
          if (day >= salt_day_) {
            salt_day_ = day;
            hasher_ = hasher;
          }
        }
        then(std::move(hasher));
      });
}

}  // namespace footfall::core
