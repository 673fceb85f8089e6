#include "store/dynamodb/dynamodb_client.h"

#include <algorithm>
#include <charconv>

#include "store/dynamodb/dynamodb_errors.h"

namespace footfall::store::dynamodb {

using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::seconds kDefaultBudget{10};
constexpr std::chrono::milliseconds kBackoffBase{25};
constexpr std::chrono::milliseconds kBackoffCap{1000};

const json kNull;

// Calls that take ReturnConsumedCapacity (the data plane; not table management).
bool ReportsCapacity(const std::string& operation) {
  for (const char* name : {"PutItem", "UpdateItem", "DeleteItem", "GetItem", "BatchGetItem",
                           "BatchWriteItem", "Query", "Scan", "TransactWriteItems",
                           "TransactGetItems"}) {
    if (operation == name) return true;
  }
  return false;
}

// The capacity units an answer says it consumed: one ConsumedCapacity object, or a list of them
// (batch and transaction calls).
double CapacityIn(const json& body) {
  const json& consumed = Member(body, "ConsumedCapacity");
  double units = 0;
  auto add = [&units](const json& one) {
    const json& value = Member(one, "CapacityUnits");
    if (value.is_number()) units += value.get<double>();
  };
  if (consumed.is_array()) {
    for (const json& one : consumed) add(one);
  } else {
    add(consumed);
  }
  return units;
}

// The text of member `name` of an error body, "" when absent or not a string.
std::string TextMember(const json& body, const char* name) {
  const json& value = Member(body, name);
  return value.is_string() ? value.get<std::string>() : "";
}

}  // namespace

ParsedAnswer ParseAnswer(int http_status, std::string_view body) {
  ParsedAnswer answer;
  // Invalid UTF-8, deep nesting, any other malformation: not an object, never an exception.
  json parsed = json::parse(body, nullptr, false);
  if (http_status == 200 && parsed.is_object()) {
    answer.capacity_units = CapacityIn(parsed);
    answer.result.body = std::move(parsed);
    return answer;
  }
  std::string type = TextMember(parsed, "__type");
  type = type.substr(type.find('#') + 1);  // npos + 1 == 0: keep all
  std::string message = TextMember(parsed, "message");
  if (message.empty()) message = TextMember(parsed, "Message");
  if (http_status == 200) message = "a 200 answer that is not a JSON object";
  answer.result.status = MapError(http_status, type, message.substr(0, 500));
  answer.result.error_type = std::move(type);
  if (parsed.is_object()) answer.result.error_body = std::move(parsed);
  return answer;
}

const json& Member(const json& value, const char* name) {
  if (!value.is_object()) return kNull;
  auto it = value.find(name);
  return it == value.end() ? kNull : *it;
}

std::optional<int64_t> NumberAttribute(const json& item, const char* name) {
  const json& n = Member(Member(item, name), "N");
  if (!n.is_string()) return std::nullopt;
  const std::string& text = n.get_ref<const std::string&>();
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<std::string> StringAttribute(const json& item, const char* name) {
  const json& s = Member(Member(item, name), "S");
  if (!s.is_string()) return std::nullopt;
  return s.get<std::string>();
}

StatusOr<std::shared_ptr<DynamoDbClient>> DynamoDbClient::Create(DynamoDbClientOptions options) {
  std::shared_ptr<DynamoDbClient> client(new DynamoDbClient(options));
  ASSIGN_OR_RETURN(client->http_, aws::AsyncHttpClient::Create(std::move(options.http)));
  return client;
}

DynamoDbClient::DynamoDbClient(DynamoDbClientOptions options) : options_(std::move(options)) {}

void DynamoDbClient::Shutdown() { http_.reset(); }

Deadline DynamoDbClient::Effective(Deadline deadline) {
  return std::min(deadline, SteadyClock::now() + kDefaultBudget);
}

std::chrono::milliseconds DynamoDbClient::Backoff(int attempt) {
  const auto ceiling = std::min(kBackoffCap, kBackoffBase * (1 << std::min(attempt, 10)));
  std::lock_guard lock(rng_mu_);
  return std::chrono::milliseconds(
      std::uniform_int_distribution<int64_t>(0, ceiling.count())(rng_));
}

void DynamoDbClient::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  http_->After(delay, std::move(fn));
}

DynamoDbUsage DynamoDbClient::Usage() const {
  std::lock_guard lock(usage_mu_);
  return usage_;
}

struct DynamoDbClient::Call {
  std::string operation;
  json body;
  bool idempotent = false;
  Deadline deadline;
  std::function<void(CallResult)> done;
  int attempt = 1;
  bool earlier_unknown = false;       // an earlier attempt may have been applied
  bool credentials_renewed = false;   // after an ExpiredToken answer, once per call
};

void DynamoDbClient::Invoke(std::string operation, json body, bool idempotent, Deadline deadline,
                            std::function<void(CallResult)> done) {
  if (ReportsCapacity(operation) && body.is_object()) body["ReturnConsumedCapacity"] = "TOTAL";
  auto call = std::make_shared<Call>();
  call->operation = std::move(operation);
  call->body = std::move(body);
  call->idempotent = idempotent;
  call->deadline = deadline;
  call->done = std::move(done);
  Attempt(std::move(call));
}

void DynamoDbClient::Attempt(std::shared_ptr<Call> call) {
  if (!options_.credentials_provider) return Send(std::move(call), options_.credentials);
  options_.credentials_provider->Get(
      call->deadline,
      [self = shared_from_this(), call](StatusOr<aws::Credentials> credentials) mutable {
        if (!credentials.ok()) {
          CallResult result;
          result.status = credentials.status();
          result.earlier_attempt_unknown = call->earlier_unknown;
          return call->done(std::move(result));
        }
        self->Send(std::move(call), *credentials);
      });
}

void DynamoDbClient::Send(std::shared_ptr<Call> call, const aws::Credentials& credentials) {
  aws::HttpMessage request;
  request.body = call->body.dump(-1, ' ', false, json::error_handler_t::replace);
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", options_.target_prefix + call->operation}};
  aws::SignableRequest signable{"POST", http_->endpoint().HostHeader(), "/", "",
                                request.headers, request.body};
  for (auto& header : aws::SignV4(signable, credentials, options_.region, "dynamodb",
                                  std::chrono::system_clock::now())) {
    request.headers.push_back(std::move(header));
  }
  {
    std::lock_guard lock(usage_mu_);
    ++usage_.requests;
  }
  http_->Send(
      std::move(request), call->deadline,
      [self = shared_from_this(), call, used = credentials](aws::HttpOutcome outcome) mutable {
        CallResult result;
        result.earlier_attempt_unknown = call->earlier_unknown;
        AttemptVerdict verdict;
        if (!outcome.status.ok()) {
          result.status = outcome.status;
          verdict = AfterTransportFailure(outcome, call->idempotent);
        } else {
          ParsedAnswer answer = ParseAnswer(outcome.response.status, outcome.response.body);
          if (answer.result.status.ok()) {
            if (answer.capacity_units > 0) {
              std::lock_guard lock(self->usage_mu_);
              self->usage_.consumed_capacity += answer.capacity_units;
            }
            result.body = std::move(answer.result.body);
            return call->done(std::move(result));
          }
          result.status = std::move(answer.result.status);
          result.error_type = std::move(answer.result.error_type);
          result.error_body = std::move(answer.result.error_body);
          verdict =
              AfterErrorResponse(outcome.response.status, result.error_type, call->idempotent);
          if (IsExpiredToken(result.error_type) && self->options_.credentials_provider &&
              !call->credentials_renewed) {
            // Refused before anything was applied: new credentials (one fetch however many calls
            // were refused together), and this call once more.
            self->options_.credentials_provider->Invalidate(used);
            call->credentials_renewed = true;
            verdict = {.retry = true, .maybe_applied = false};
          }
        }
        const auto delay = self->Backoff(call->attempt);
        if (verdict.retry && call->attempt < self->options_.max_attempts &&
            SteadyClock::now() + delay < call->deadline) {
          call->earlier_unknown = call->earlier_unknown || verdict.maybe_applied;
          ++call->attempt;
          return self->http_->After(delay, [self, call]() mutable {
            self->Attempt(std::move(call));
          });
        }
        call->done(std::move(result));
      });
}

}  // namespace footfall::store::dynamodb
