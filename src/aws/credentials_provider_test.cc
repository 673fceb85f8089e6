#include "aws/credentials_provider.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/http_client.h"
#include "tests/moto_server.h"

// Real servers, no mocks: moto_server's STS (tests/moto_server.h) and
// tests/tools/aws_credentials_fixture.py, which serves the container credentials endpoint, IMDSv2
// and STS AssumeRoleWithWebIdentity as AWS documents them (tests/integration/test_credentials.py
// checks that botocore accepts it) and has knobs for faults and counters of what it was asked.

namespace footfall::aws {
namespace {

using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;

constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/footfall";
// Any JWT-shaped string: moto does not verify it, the fixture compares it when told to.
constexpr char kJwt[] =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpmb290ZmFsbCJ9.c2ln";
// Handed out by the fixture where a test checks that no error message ever repeats them.
constexpr char kSecret[] = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY";
constexpr char kSessionToken[] = "IQoJb3JpZ2luX2VjSESSIONTOKENSECRET";

// --- Servers ------------------------------------------------------------------------------------

// A blocking HTTP exchange with a loopback server, through the client under test's own HTTP stack.
HttpMessage Exchange(const std::string& base_url, std::string method, std::string target,
                     std::string body = "") {
  auto endpoint = ParseEndpointUrl(base_url);
  EXPECT_TRUE(endpoint.ok());
  HttpClientOptions options;
  options.endpoint = *endpoint;
  auto client = AsyncHttpClient::Create(options);
  EXPECT_TRUE(client.ok());
  HttpMessage request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  if (!request.body.empty()) request.headers = {{"Content-Type", "application/json"}};
  std::promise<HttpOutcome> promise;
  (*client)->Send(request, std::chrono::steady_clock::now() + 10s,
                  [&](HttpOutcome outcome) { promise.set_value(std::move(outcome)); });
  HttpOutcome outcome = promise.get_future().get();
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  return outcome.response;
}

// tests/tools/aws_credentials_fixture.py on a port the OS chose; killed with the test.
class CredentialsFixture {
 public:
  static std::unique_ptr<CredentialsFixture> Start() {
    const std::string dir =
        std::filesystem::temp_directory_path() / ("footfall-credfix-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string port_file = dir + "/port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {"python3",
                                     FOOTFALL_SOURCE_DIR "/tests/tools/aws_credentials_fixture.py",
                                     "--port-file", port_file};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    auto fixture = std::unique_ptr<CredentialsFixture>(new CredentialsFixture(pid));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      if (in >> fixture->port_) {
        std::filesystem::remove_all(dir);
        return fixture;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        fixture->pid_ = 0;
        ADD_FAILURE() << "aws_credentials_fixture.py exited during start-up";
        return nullptr;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "aws_credentials_fixture.py did not listen within 20 s";
    return nullptr;
  }

  ~CredentialsFixture() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void Configure(const nlohmann::json& settings) {
    const HttpMessage answer = Exchange(url(), "POST", "/_fixture/config", settings.dump());
    ASSERT_EQ(answer.status, 200) << answer.body;
  }
  void Reset() { ASSERT_EQ(Exchange(url(), "POST", "/_fixture/reset", "{}").status, 200); }
  nlohmann::json Stats() {
    return nlohmann::json::parse(Exchange(url(), "GET", "/_fixture/stats").body);
  }
  int Count(const char* counter) { return Stats()[counter].get<int>(); }

 private:
  explicit CredentialsFixture(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  int port_ = 0;
};

// --- Helpers ------------------------------------------------------------------------------------

struct GetResult {
  StatusOr<Credentials> result;
  // `done` ran on the calling thread, within Get: nobody waited. (A fetch may also end before Get
  // returns, but its waiters are called on the provider's thread.)
  bool answered_inline;
};

GetResult GetAndWait(CredentialsProvider& provider,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  auto promise = std::make_shared<std::promise<std::pair<StatusOr<Credentials>, bool>>>();
  auto future = promise->get_future();
  const std::thread::id caller = std::this_thread::get_id();
  provider.Get(std::chrono::steady_clock::now() + timeout,
               [promise, caller](StatusOr<Credentials> result) {
                 promise->set_value({std::move(result), std::this_thread::get_id() == caller});
               });
  if (future.wait_for(timeout + 5s) != std::future_status::ready) {
    ADD_FAILURE() << "Get never called back";
    return {UnavailableError("no callback"), false};
  }
  auto [result, answered_inline] = future.get();
  return {std::move(result), answered_inline};
}

// Polls `condition` until it holds or 10 s pass.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

TimePoint At(const char* iso) { return *ParseIso8601Utc(iso); }

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/footfall-cred-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::trunc) << content;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

CredentialsProviderOptions OptionsWith(const Env& env, const Clock* clock = nullptr) {
  CredentialsProviderOptions options;
  options.getenv = [env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  options.clock = clock;
  options.retry_backoff = 10ms;  // keep retried faults quick
  return options;
}

std::shared_ptr<CredentialsProvider> Make(const Env& env, const Clock* clock = nullptr) {
  auto provider = CredentialsProvider::FromEnvironment(OptionsWith(env, clock));
  EXPECT_TRUE(provider.ok()) << provider.status().ToString();
  return provider.ok() ? *provider : nullptr;
}

// --- Chain selection (no server contacted) ------------------------------------------------------

TEST(CredentialsChainTest, EnvironmentCredentialsAreStaticAndHandedOutAtOnce) {
  auto provider = Make({{"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"},
                        {"AWS_SECRET_ACCESS_KEY", "secret/example+key"},
                        {"AWS_SESSION_TOKEN", "session-token"}});
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->source(), CredentialsSource::kEnvironment);
  for (int i = 0; i < 3; ++i) {
    const GetResult got = GetAndWait(*provider);
    ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
    EXPECT_TRUE(got.answered_inline);
    EXPECT_EQ(got.result->access_key_id, "AKIAEXAMPLE");
    EXPECT_EQ(got.result->secret_access_key, "secret/example+key");
    EXPECT_EQ(got.result->session_token, "session-token");
    provider->Invalidate();  // nothing to refetch from: static credentials stay
  }
  EXPECT_EQ(provider->Describe().find("secret"), std::string::npos) << provider->Describe();
  EXPECT_EQ(provider->Describe().find("AKIAEXAMPLE"), std::string::npos);
}

TEST(CredentialsChainTest, OneKeyVariableWithoutTheOtherIsAnError) {
  auto only_id = CredentialsProvider::FromEnvironment(OptionsWith({{"AWS_ACCESS_KEY_ID", "AKIA"}}));
  ASSERT_FALSE(only_id.ok());
  EXPECT_EQ(only_id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(only_id.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  auto only_secret =
      CredentialsProvider::FromEnvironment(OptionsWith({{"AWS_SECRET_ACCESS_KEY", "s3cr3t"}}));
  ASSERT_FALSE(only_secret.ok());
  EXPECT_EQ(only_secret.status().message().find("s3cr3t"), std::string::npos);
}

TEST(CredentialsChainTest, FollowsTheSdkOrder) {
  Env env = {{"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"},
             {"AWS_SECRET_ACCESS_KEY", "secret"},
             {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/token"},
             {"AWS_ROLE_ARN", kRoleArn},
             {"AWS_REGION", "eu-west-1"},
             {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/0f7a-secret-id"},
             {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
             {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"}};
  EXPECT_EQ(Make(env)->source(), CredentialsSource::kEnvironment);

  env.erase("AWS_ACCESS_KEY_ID");
  env.erase("AWS_SECRET_ACCESS_KEY");
  auto web = Make(env);
  EXPECT_EQ(web->source(), CredentialsSource::kWebIdentity);
  EXPECT_EQ(web->Describe(),
            "web identity: role arn:aws:iam::123456789012:role/footfall via "
            "https://sts.eu-west-1.amazonaws.com, token file "
            "/var/run/secrets/eks.amazonaws.com/token");

  env.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto container = Make(env);
  EXPECT_EQ(container->source(), CredentialsSource::kContainer);
  // The relative URI (ECS) wins over the full one; its path (a credential id) is never shown.
  EXPECT_EQ(container->Describe(), "container credentials: http://169.254.170.2");

  env.erase("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  EXPECT_EQ(Make(env)->Describe(), "container credentials: http://169.254.170.23");

  env.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  auto imds = Make(env);
  EXPECT_EQ(imds->source(), CredentialsSource::kInstanceMetadata);
  EXPECT_EQ(imds->Describe(),
            "EC2 instance metadata: http://127.0.0.1:9 (IMDSv2, IMDSv1 fallback)");
  env.erase("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  EXPECT_EQ(Make(env)->Describe(),
            "EC2 instance metadata: http://169.254.169.254 (IMDSv2, IMDSv1 fallback)");
  env["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = "IPv6";
  EXPECT_EQ(Make(env)->Describe(),
            "EC2 instance metadata: http://[fd00:ec2::254] (IMDSv2, IMDSv1 fallback)");

  env["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  auto none = CredentialsProvider::FromEnvironment(OptionsWith(env));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
}

TEST(CredentialsChainTest, EmptyVariablesCountAsUnset) {
  auto provider = Make({{"AWS_ACCESS_KEY_ID", ""},
                        {"AWS_SECRET_ACCESS_KEY", ""},
                        {"AWS_WEB_IDENTITY_TOKEN_FILE", ""},
                        {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example/x"}});
  EXPECT_EQ(provider->source(), CredentialsSource::kContainer);
}

TEST(CredentialsChainTest, StsEndpointFollowsTheSdkVariables) {
  Env env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", "/token"}, {"AWS_ROLE_ARN", kRoleArn}};
  const auto via = [&] {
    const std::string d = Make(env)->Describe();
    const size_t at = d.find(" via ");
    return d.substr(at + 5, d.find(',', at) - at - 5);
  };
  EXPECT_EQ(via(), "https://sts.amazonaws.com");  // no region: the global endpoint
  env["AWS_DEFAULT_REGION"] = "us-west-2";
  EXPECT_EQ(via(), "https://sts.us-west-2.amazonaws.com");
  env["AWS_REGION"] = "cn-north-1";
  EXPECT_EQ(via(), "https://sts.cn-north-1.amazonaws.com.cn");
  env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566";
  EXPECT_EQ(via(), "http://127.0.0.1:4566");
  env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:5000/";
  EXPECT_EQ(via(), "http://127.0.0.1:5000");
  env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  EXPECT_EQ(via(), "https://sts.cn-north-1.amazonaws.com.cn");
}

TEST(CredentialsChainTest, RefusesWrongConfiguration) {
  const auto error = [](const Env& env) {
    auto provider = CredentialsProvider::FromEnvironment(OptionsWith(env));
    EXPECT_FALSE(provider.ok());
    return provider.ok() ? Status() : provider.status();
  };
  EXPECT_NE(error({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/token"}}).message().find("AWS_ROLE_ARN"),
            std::string::npos);
  EXPECT_EQ(error({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/t"}, {"AWS_ROLE_ARN", "footfall"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(error({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/t"},
                   {"AWS_ROLE_ARN", kRoleArn},
                   {"AWS_ROLE_SESSION_NAME", "has space"}})
                .code(),
            StatusCode::kInvalidArgument);
  // Plain http only to loopback and the ECS/EKS agents, as in the SDKs.
  for (const char* uri : {"http://10.0.0.1/creds", "http://169.254.169.254/creds",
                          "http://credentials.example/x", "ftp://127.0.0.1/x", "127.0.0.1:80"}) {
    const Status status = error({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", uri}});
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << uri;
  }
  for (const char* uri :
       {"http://127.0.0.1:8080/creds", "http://127.1.2.3/x", "http://[::1]:80/x",
        "http://localhost/x", "http://169.254.170.2/v2/x", "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials", "https://10.0.0.1/creds"}) {
    EXPECT_TRUE(CredentialsProvider::FromEnvironment(
                    OptionsWith({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", uri}}))
                    .ok())
        << uri;
  }
  EXPECT_EQ(error({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/creds"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(error({{"AWS_METADATA_SERVICE_TIMEOUT", "soon"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(error({{"AWS_METADATA_SERVICE_NUM_ATTEMPTS", "0"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(error({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254"}}).code(),
            StatusCode::kInvalidArgument);
}

// --- Against the servers ------------------------------------------------------------------------

class CredentialsProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = CredentialsFixture::Start().release();
    auto moto = footfall::testing::MotoServer::Start();
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = moto->release();
  }
  static void TearDownTestSuite() {
    delete fixture_;
    delete moto_;
  }
  void SetUp() override {
    ASSERT_NE(fixture_, nullptr);
    fixture_->Reset();
  }

  Env ContainerEnv() {
    return {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", fixture_->url() + "/container/v1/credentials"}};
  }
  Env WebIdentityEnv(const std::string& token_file) {
    return {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
            {"AWS_ROLE_ARN", kRoleArn},
            {"AWS_ROLE_SESSION_NAME", "footfall-test"},
            {"AWS_ENDPOINT_URL_STS", fixture_->url()}};
  }
  Env ImdsEnv() { return {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", fixture_->url()}}; }

  // Each configured fault must give an error naming the source, never the secrets. An answer
  // over the size limit is refused by the HTTP client (header alone in the first read) or by the
  // provider's own check (Boost 1.74 skips the limit when the body comes with the header).
  void ExpectFaultIsAnError(const Env& env, const std::string& fault, const char* counter,
                            StatusCode code, const std::string& says) {
    SCOPED_TRACE(fault);
    fixture_->Reset();
    fixture_->Configure(
        {{"answer", fault}, {"secret_access_key", kSecret}, {"session_token", kSessionToken}});
    auto provider = Make(env);
    const GetResult got = GetAndWait(*provider);
    ASSERT_FALSE(got.result.ok());
    const std::string& message = got.result.status().message();
    EXPECT_EQ(got.result.status().code(), code) << message;
    // `says`: what the message must contain; alternatives separated by '|'.
    bool says_it = false;
    for (size_t at = 0; at <= says.size();) {
      const size_t bar = std::min(says.find('|', at), says.size());
      says_it = says_it || message.find(says.substr(at, bar - at)) != std::string::npos;
      at = bar + 1;
    }
    EXPECT_TRUE(says_it) << message << "\n  should say: " << says;
    EXPECT_EQ(message.find(kSecret), std::string::npos) << message;
    EXPECT_EQ(message.find(kSessionToken), std::string::npos) << message;
    EXPECT_GE(fixture_->Count(counter), 1);
  }

  static CredentialsFixture* fixture_;
  static footfall::testing::MotoServer* moto_;
  TempDir temp_;
};

CredentialsFixture* CredentialsProviderTest::fixture_ = nullptr;
footfall::testing::MotoServer* CredentialsProviderTest::moto_ = nullptr;

TEST_F(CredentialsProviderTest, WebIdentityThroughMotoSts) {
  const std::string token_file = temp_.Write("token", std::string(kJwt) + "\n");
  for (const char* variable : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
    SCOPED_TRACE(variable);
    auto provider = Make({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                          {"AWS_ROLE_ARN", kRoleArn},
                          {"AWS_REGION", "us-east-1"},
                          {variable, moto_->endpoint()}});
    ASSERT_EQ(provider->source(), CredentialsSource::kWebIdentity);
    const GetResult got = GetAndWait(*provider);
    ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
    EXPECT_FALSE(got.answered_inline);
    EXPECT_TRUE(got.result->access_key_id.starts_with("ASIA")) << got.result->access_key_id;
    EXPECT_FALSE(got.result->secret_access_key.empty());
    EXPECT_FALSE(got.result->session_token.empty());
    // Cached now: the second Get needs no server.
    const GetResult again = GetAndWait(*provider);
    EXPECT_TRUE(again.answered_inline);
    EXPECT_EQ(again.result->access_key_id, got.result->access_key_id);
    EXPECT_EQ(provider->Describe().find(kJwt), std::string::npos);
  }
}

TEST_F(CredentialsProviderTest, WebIdentitySendsTheDocumentedQueryAndRereadsTheTokenFile) {
  const std::string token_file = temp_.Write("token", "first.token.value");
  fixture_->Configure({{"sts_expect_token", "first.token.value"}});
  auto provider = Make(WebIdentityEnv(token_file));
  const GetResult first = GetAndWait(*provider);
  ASSERT_TRUE(first.result.ok()) << first.result.status().ToString();
  const auto params = fixture_->Stats()["sts_params"];
  EXPECT_EQ(params["Action"], "AssumeRoleWithWebIdentity");
  EXPECT_EQ(params["Version"], "2011-06-15");
  EXPECT_EQ(params["RoleArn"], kRoleArn);
  EXPECT_EQ(params["RoleSessionName"], "footfall-test");
  EXPECT_EQ(params["WebIdentityToken"], "first.token.value");

  // The kubelet rotates the token; the next fetch must send the new one.
  temp_.Write("token", "second.token.value");
  fixture_->Configure({{"sts_expect_token", "second.token.value"}});
  provider->Invalidate(*first.result);
  const GetResult second = GetAndWait(*provider);
  ASSERT_TRUE(second.result.ok()) << second.result.status().ToString();
  EXPECT_NE(second.result->access_key_id, first.result->access_key_id);
  EXPECT_EQ(fixture_->Stats()["sts_params"]["WebIdentityToken"], "second.token.value");

  // A token STS refuses is the caller's configuration: kFailedPrecondition with STS's code.
  fixture_->Configure({{"sts_expect_token", "third"}});
  provider->Invalidate();
  const GetResult refused = GetAndWait(*provider);
  ASSERT_FALSE(refused.result.ok());
  EXPECT_EQ(refused.result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.result.status().message().find("InvalidIdentityToken"), std::string::npos)
      << refused.result.status().message();
  EXPECT_EQ(refused.result.status().message().find("second.token.value"), std::string::npos);
}

TEST_F(CredentialsProviderTest, WebIdentityTokenFileMissingOrTooLargeIsAnError) {
  auto provider = Make(WebIdentityEnv(temp_.path() + "/no-such-token"));
  const GetResult missing = GetAndWait(*provider);
  ASSERT_FALSE(missing.result.ok());
  EXPECT_EQ(missing.result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.result.status().message().find(temp_.path() + "/no-such-token"),
            std::string::npos)
      << missing.result.status().message();
  EXPECT_EQ(fixture_->Count("sts"), 0);

  const std::string big = temp_.Write("big", std::string(20001, 'a'));
  auto too_large = Make(WebIdentityEnv(big));
  const GetResult large = GetAndWait(*too_large);
  ASSERT_FALSE(large.result.ok());
  EXPECT_NE(large.result.status().message().find("larger than 20000 bytes"), std::string::npos);

  auto directory = Make(WebIdentityEnv(temp_.path()));
  EXPECT_FALSE(GetAndWait(*directory).result.ok());
  auto empty = Make(WebIdentityEnv(temp_.Write("empty", "\n")));
  EXPECT_FALSE(GetAndWait(*empty).result.ok());
  EXPECT_EQ(fixture_->Count("sts"), 0);
}

TEST_F(CredentialsProviderTest, WebIdentityMalformedAnswersAreErrors) {
  const Env env = WebIdentityEnv(temp_.Write("token", kJwt));
  const auto unavailable = StatusCode::kUnavailable;
  ExpectFaultIsAnError(env, "not_json", "sts", unavailable,
                       "AssumeRoleWithWebIdentityResponse is missing");
  ExpectFaultIsAnError(env, "empty", "sts", unavailable, "malformed answer");
  ExpectFaultIsAnError(env, "missing_token", "sts", unavailable, "SessionToken is missing");
  ExpectFaultIsAnError(env, "bad_expiration", "sts", unavailable, "Expiration 'next tuesday'");
  ExpectFaultIsAnError(env, "duplicate", "sts", unavailable, "AccessKeyId appears more than once");
  ExpectFaultIsAnError(env, "huge", "sts", unavailable,
                       "larger than 65536 bytes|body limit exceeded");
  ExpectFaultIsAnError(env, "error_500", "sts", unavailable, "HTTP 500 InternalFailure");
  EXPECT_EQ(fixture_->Count("sts"), 3);  // a 5xx is tried three times
  ExpectFaultIsAnError(env, "error_403", "sts", StatusCode::kFailedPrecondition,
                       "HTTP 403 AccessDenied: Not authorized");
  EXPECT_EQ(fixture_->Count("sts"), 1);  // a 4xx is not retried
}

TEST_F(CredentialsProviderTest, WebIdentityDecodesXmlEntities) {
  fixture_->Configure({{"answer", "entity"}, {"secret_access_key", "abcdefghij"}});
  auto provider = Make(WebIdentityEnv(temp_.Write("token", kJwt)));
  const GetResult got = GetAndWait(*provider);
  ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
  EXPECT_EQ(got.result->secret_access_key, "abcde&Afghij");
}

TEST_F(CredentialsProviderTest, ContainerFullUriWithAuthorizationTokenFile) {
  fixture_->Configure({{"auth_token", "pod-identity-token-1"}});
  Env env = ContainerEnv();
  const std::string token_file = temp_.Write("eks-pod-identity-token", "pod-identity-token-1\n");
  env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = token_file;
  env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "ignored-when-there-is-a-file";
  auto provider = Make(env);
  ASSERT_EQ(provider->source(), CredentialsSource::kContainer);
  EXPECT_EQ(provider->Describe(), "container credentials: " + fixture_->url() +
                                      ", authorization token file " + token_file);
  const GetResult first = GetAndWait(*provider);
  ASSERT_TRUE(first.result.ok()) << first.result.status().ToString();
  EXPECT_TRUE(first.result->access_key_id.starts_with("ASIAFIXTURE"));
  EXPECT_EQ(fixture_->Stats()["authorization"], "pod-identity-token-1");

  // The file is read at each fetch (EKS rotates it).
  temp_.Write("eks-pod-identity-token", "pod-identity-token-2");
  fixture_->Configure({{"auth_token", "pod-identity-token-2"}});
  provider->Invalidate();
  const GetResult second = GetAndWait(*provider);
  ASSERT_TRUE(second.result.ok()) << second.result.status().ToString();
  EXPECT_EQ(fixture_->Stats()["authorization"], "pod-identity-token-2");

  // A refused token: the endpoint's 401 and its reason, not retried, nothing secret.
  fixture_->Configure({{"auth_token", "another"}});
  provider->Invalidate();
  const GetResult refused = GetAndWait(*provider);
  ASSERT_FALSE(refused.result.ok());
  EXPECT_EQ(refused.result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.result.status().message().find("HTTP 401 AccessDeniedException"),
            std::string::npos)
      << refused.result.status().message();
  EXPECT_EQ(refused.result.status().message().find("pod-identity-token"), std::string::npos);
  EXPECT_EQ(fixture_->Count("container"), 3);

  // The token file gone: an error naming it, and no request.
  std::filesystem::remove(token_file);
  provider->Invalidate();
  const GetResult missing = GetAndWait(*provider);
  ASSERT_FALSE(missing.result.ok());
  EXPECT_EQ(missing.result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.result.status().message().find(token_file), std::string::npos);
  EXPECT_EQ(fixture_->Count("container"), 3);
}

TEST_F(CredentialsProviderTest, ContainerAuthorizationTokenFromTheEnvironment) {
  fixture_->Configure({{"auth_token", "ecs-token"}});
  Env env = ContainerEnv();
  env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "ecs-token";
  auto provider = Make(env);
  const GetResult got = GetAndWait(*provider);
  ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
  EXPECT_EQ(provider->Describe().find("ecs-token"), std::string::npos);
}

TEST_F(CredentialsProviderTest, ContainerMalformedAnswersAreErrors) {
  const Env env = ContainerEnv();
  const auto unavailable = StatusCode::kUnavailable;
  ExpectFaultIsAnError(env, "not_json", "container", unavailable, "malformed answer: not JSON");
  ExpectFaultIsAnError(env, "empty", "container", unavailable, "malformed answer: not JSON");
  ExpectFaultIsAnError(env, "missing_token", "container", unavailable, "field Token is missing");
  ExpectFaultIsAnError(env, "wrong_type", "container", unavailable,
                       "field SecretAccessKey is not a string");
  ExpectFaultIsAnError(env, "bad_expiration", "container", unavailable,
                       "Expiration 'next tuesday'");
  ExpectFaultIsAnError(env, "huge", "container", unavailable,
                       "larger than 65536 bytes|body limit exceeded");
  ExpectFaultIsAnError(env, "error_500", "container", unavailable, "HTTP 500 InternalError");
  EXPECT_EQ(fixture_->Count("container"), 3);
  ExpectFaultIsAnError(env, "error_403", "container", StatusCode::kFailedPrecondition,
                       "HTTP 403 AccessDenied not for you");
  EXPECT_EQ(fixture_->Count("container"), 1);
}

TEST_F(CredentialsProviderTest, AFetchWhoseAnswerNeverComesIsAbandoned) {
  // An answer can be lost for good (an exception escaping a handler on the HTTP thread drops its
  // exchange; see the fixture's length_bomb). Stand-in: a call timeout longer than fetch_timeout.
  fixture_->Configure({{"delay_ms", 3000}});
  CredentialsProviderOptions options = OptionsWith(ContainerEnv());
  options.fetch_timeout = 500ms;
  options.container_timeout = 10000ms;
  options.failure_hold = 0ms;
  auto provider = *CredentialsProvider::FromEnvironment(options);
  const auto start = std::chrono::steady_clock::now();
  const GetResult got = GetAndWait(*provider);
  ASSERT_FALSE(got.result.ok());
  EXPECT_EQ(got.result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.result.status().message().find("fetch abandoned"), std::string::npos)
      << got.result.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  // The next Get fetches again; the abandoned fetch's late answer changes nothing.
  fixture_->Configure({{"delay_ms", 0}});
  const GetResult recovered = GetAndWait(*provider);
  ASSERT_TRUE(recovered.result.ok()) << recovered.result.status().ToString();
  EXPECT_EQ(fixture_->Count("container"), 2);
}

TEST_F(CredentialsProviderTest, TransientFailuresAreRetriedWithinOneFetch) {
  fixture_->Configure({{"fail_next", 2}});
  auto provider = Make(ContainerEnv());
  const GetResult got = GetAndWait(*provider);
  ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
  EXPECT_EQ(fixture_->Count("container"), 3);
}

TEST_F(CredentialsProviderTest, ImdsV2AsksForASessionTokenFirst) {
  auto provider = Make(ImdsEnv());
  ASSERT_EQ(provider->source(), CredentialsSource::kInstanceMetadata);
  const GetResult got = GetAndWait(*provider);
  ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
  EXPECT_TRUE(got.result->access_key_id.starts_with("ASIAFIXTURE"));
  EXPECT_FALSE(got.result->session_token.empty());
  const auto stats = fixture_->Stats();
  EXPECT_EQ(stats["imds_token"], 1);
  EXPECT_EQ(stats["imds_ttl"], "21600");
  EXPECT_EQ(stats["imds_role"], 1);
  EXPECT_EQ(stats["imds_credentials"], 1);
  EXPECT_EQ(stats["imds_refused"], 0);  // the fixture refuses any GET without the token
}

TEST_F(CredentialsProviderTest, ImdsFallsBackToV1OnlyWhereTheSdksDo) {
  // An IMDS without v2 (the token PUT answers 404) that serves v1: the SDKs fall back.
  fixture_->Configure({{"imds_token_status", 404}, {"imds_v1", true}});
  auto provider = Make(ImdsEnv());
  const GetResult v1 = GetAndWait(*provider);
  ASSERT_TRUE(v1.result.ok()) << v1.result.status().ToString();

  // Not with AWS_EC2_METADATA_V1_DISABLED.
  Env env = ImdsEnv();
  env["AWS_EC2_METADATA_V1_DISABLED"] = "true";
  const GetResult disabled = GetAndWait(*Make(env));
  ASSERT_FALSE(disabled.result.ok());
  EXPECT_NE(disabled.result.status().message().find("AWS_EC2_METADATA_V1_DISABLED"),
            std::string::npos);

  // An instance that requires IMDSv2 refuses the v1 GET: the error says so.
  fixture_->Configure({{"imds_v1", false}});
  const GetResult refused = GetAndWait(*Make(ImdsEnv()));
  ASSERT_FALSE(refused.result.ok());
  EXPECT_NE(refused.result.status().message().find("HTTP 401"), std::string::npos)
      << refused.result.status().message();
  EXPECT_GE(fixture_->Count("imds_refused"), 1);
}

TEST_F(CredentialsProviderTest, ImdsWithoutARoleOrWithBadAnswersIsAnError) {
  fixture_->Configure({{"role_name", nullptr}});
  const GetResult no_role = GetAndWait(*Make(ImdsEnv()));
  ASSERT_FALSE(no_role.result.ok());
  EXPECT_EQ(no_role.result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(no_role.result.status().message().find("no IAM role"), std::string::npos);

  const Env env = ImdsEnv();
  ExpectFaultIsAnError(env, "code_failure", "imds_credentials", StatusCode::kUnavailable,
                       "Code is 'AssumeRoleUnauthorizedAccess'");
  ExpectFaultIsAnError(env, "not_json", "imds_credentials", StatusCode::kUnavailable, "not JSON");
  ExpectFaultIsAnError(env, "missing_token", "imds_credentials", StatusCode::kUnavailable,
                       "field Token is missing");
}

TEST_F(CredentialsProviderTest, RefreshesBeforeExpiryWithoutACallerWaiting) {
  FakeClock clock(At("2030-01-01T00:00:00Z"));
  fixture_->Configure({{"expiration", "2030-01-01T00:10:00Z"}});
  auto provider = Make(ContainerEnv(), &clock);
  const GetResult first = GetAndWait(*provider);
  ASSERT_TRUE(first.result.ok()) << first.result.status().ToString();
  EXPECT_FALSE(first.answered_inline);

  clock.Advance(4min);  // 6 min left: fresh
  const GetResult fresh = GetAndWait(*provider);
  EXPECT_TRUE(fresh.answered_inline);
  EXPECT_EQ(fresh.result->access_key_id, first.result->access_key_id);
  EXPECT_EQ(fixture_->Count("container"), 1);

  fixture_->Configure({{"expiration", "2030-01-01T01:00:00Z"}});
  clock.Advance(90s);  // 4.5 min left: inside the 5 min refresh window
  const GetResult due = GetAndWait(*provider);
  EXPECT_TRUE(due.answered_inline);  // the old, still valid ones, at once
  EXPECT_EQ(due.result->access_key_id, first.result->access_key_id);
  ASSERT_TRUE(Eventually([&] {
    const GetResult now = GetAndWait(*provider);
    return now.answered_inline && now.result.ok() &&
           now.result->access_key_id != first.result->access_key_id;
  }));
  EXPECT_EQ(fixture_->Count("container"), 2);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(GetAndWait(*provider).answered_inline);
  EXPECT_EQ(fixture_->Count("container"), 2);
}

TEST_F(CredentialsProviderTest, BackgroundRefreshFailureKeepsTheValidCredentials) {
  FakeClock clock(At("2030-01-01T00:00:00Z"));
  fixture_->Configure({{"expiration", "2030-01-01T00:10:00Z"}});
  auto provider = Make(ContainerEnv(), &clock);
  const GetResult first = GetAndWait(*provider);
  ASSERT_TRUE(first.result.ok());
  fixture_->Configure({{"answer", "error_403"}});
  clock.Advance(6min);  // due
  EXPECT_TRUE(GetAndWait(*provider).answered_inline);
  ASSERT_TRUE(Eventually([&] { return fixture_->Count("container") == 2; }));
  // Failed in the background; the old ones are still good and are handed out at once, and the
  // source is not asked again before refresh_retry_interval (10 s).
  const GetResult still = GetAndWait(*provider);
  EXPECT_TRUE(still.answered_inline);
  EXPECT_EQ(still.result->access_key_id, first.result->access_key_id);
  EXPECT_EQ(fixture_->Count("container"), 2);
  // The interval counts from the end of the failed refresh, which may still be on its way back
  // (the fixture counts a request before it answers): move on 11 s at a time until the next one
  // starts. Each Get still answers at once.
  ASSERT_TRUE(Eventually([&] {
    clock.Advance(11s);
    EXPECT_TRUE(GetAndWait(*provider).answered_inline);
    return fixture_->Count("container") >= 3;
  }));
  EXPECT_EQ(fixture_->Count("container"), 3);
}

TEST_F(CredentialsProviderTest, CredentialsNearExpiryMakeGetWait) {
  FakeClock clock(At("2030-01-01T00:00:00Z"));
  fixture_->Configure({{"expiration", "2030-01-01T00:10:00Z"}});
  auto provider = Make(ContainerEnv(), &clock);
  const GetResult first = GetAndWait(*provider);
  ASSERT_TRUE(first.result.ok());
  fixture_->Configure({{"expiration", "2030-01-01T01:00:00Z"}});
  clock.Advance(9min + 30s);  // within the 1 min margin: not handed out any more
  const GetResult next = GetAndWait(*provider);
  ASSERT_TRUE(next.result.ok());
  EXPECT_FALSE(next.answered_inline);
  EXPECT_NE(next.result->access_key_id, first.result->access_key_id);
}

TEST_F(CredentialsProviderTest, AnswerAlreadyExpiredIsRefused) {
  FakeClock clock(At("2030-01-01T00:00:00Z"));
  fixture_->Configure({{"expiration", "2030-01-01T00:00:30Z"}});
  const GetResult got = GetAndWait(*Make(ContainerEnv(), &clock));
  ASSERT_FALSE(got.result.ok());
  EXPECT_NE(got.result.status().message().find("is the clock right?"), std::string::npos);
}

TEST_F(CredentialsProviderTest, InvalidateAfterExpiredTokenRefetchesOnce) {
  auto provider = Make(ContainerEnv());
  const GetResult first = GetAndWait(*provider);
  ASSERT_TRUE(first.result.ok());
  ASSERT_EQ(fixture_->Count("container"), 1);
  // Sixteen requests signed with the same credentials all come back ExpiredTokenException.
  std::vector<std::thread> threads;
  std::vector<std::string> keys(16);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      provider->Invalidate(*first.result);
      const GetResult got = GetAndWait(*provider);
      keys[i] = got.result.ok() ? got.result->access_key_id : got.result.status().ToString();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(fixture_->Count("container"), 2);
  for (const std::string& key : keys) {
    EXPECT_TRUE(key.starts_with("ASIAFIXTURE")) << key;
    EXPECT_NE(key, first.result->access_key_id);
  }
  // The new credentials rejected at once too (a readiness probe's request, say): no second
  // refetch within kRejectedRefetchInterval.
  const GetResult renewed = GetAndWait(*provider);
  ASSERT_TRUE(renewed.result.ok());
  provider->Invalidate(*renewed.result);
  EXPECT_TRUE(GetAndWait(*provider).answered_inline);
  EXPECT_EQ(fixture_->Count("container"), 2);
  // Invalidate() without credentials always forces one more.
  provider->Invalidate();
  EXPECT_FALSE(GetAndWait(*provider).answered_inline);
  EXPECT_EQ(fixture_->Count("container"), 3);
}

TEST_F(CredentialsProviderTest, RejectedCredentialsRefetchAtMostOncePerInterval) {
  FakeClock clock(At("2030-01-01T00:00:00Z"));
  fixture_->Configure({{"expiration", "2030-01-02T00:00:00Z"}});
  auto provider = Make(ContainerEnv(), &clock);
  GetResult got = GetAndWait(*provider);
  ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
  provider->Invalidate(*got.result);
  got = GetAndWait(*provider);
  ASSERT_TRUE(got.result.ok());
  EXPECT_EQ(fixture_->Count("container"), 2);
  clock.Advance(CredentialsProvider::kRejectedRefetchInterval - 1s);
  provider->Invalidate(*got.result);
  EXPECT_TRUE(GetAndWait(*provider).answered_inline);
  EXPECT_EQ(fixture_->Count("container"), 2);
  clock.Advance(1s);
  provider->Invalidate(*got.result);
  EXPECT_FALSE(GetAndWait(*provider).answered_inline);
  EXPECT_EQ(fixture_->Count("container"), 3);
}

TEST_F(CredentialsProviderTest, ConcurrentGetsShareOneFetch) {
  fixture_->Configure({{"delay_ms", 300}});
  auto provider = Make(ImdsEnv());
  std::vector<std::thread> threads;
  std::vector<std::string> keys(16);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      const GetResult got = GetAndWait(*provider);
      keys[i] = got.result.ok() ? got.result->access_key_id : got.result.status().ToString();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string& key : keys) EXPECT_EQ(key, keys[0]);
  EXPECT_TRUE(keys[0].starts_with("ASIAFIXTURE")) << keys[0];
  const auto stats = fixture_->Stats();
  EXPECT_EQ(stats["imds_token"], 1);
  EXPECT_EQ(stats["imds_credentials"], 1);
}

TEST_F(CredentialsProviderTest, GetHonoursItsDeadlineWhileTheFetchGoesOn) {
  fixture_->Configure({{"delay_ms", 1500}});
  auto provider = Make(ContainerEnv());
  const auto start = std::chrono::steady_clock::now();
  const GetResult late = GetAndWait(*provider, 200ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(late.result.ok());
  EXPECT_EQ(late.result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_GE(waited, 190ms);
  EXPECT_LT(waited, 1200ms);
  // The shared fetch was not abandoned: a patient caller gets its result, fetched once.
  const GetResult patient = GetAndWait(*provider);
  ASSERT_TRUE(patient.result.ok()) << patient.result.status().ToString();
  EXPECT_EQ(fixture_->Count("container"), 1);
}

TEST_F(CredentialsProviderTest, AFailureIsHeldBrieflyThenRetried) {
  FakeClock clock(At("2030-01-01T00:00:00Z"));
  fixture_->Configure({{"answer", "error_403"}, {"expiration", "2030-01-01T01:00:00Z"}});
  auto provider = Make(ContainerEnv(), &clock);
  EXPECT_FALSE(GetAndWait(*provider).result.ok());
  const GetResult held = GetAndWait(*provider);
  EXPECT_FALSE(held.result.ok());
  EXPECT_TRUE(held.answered_inline);  // the last error, at once: the endpoint is not hammered
  EXPECT_EQ(fixture_->Count("container"), 1);
  fixture_->Configure({{"answer", "normal"}});
  clock.Advance(2s);
  const GetResult recovered = GetAndWait(*provider);
  ASSERT_TRUE(recovered.result.ok()) << recovered.result.status().ToString();
  EXPECT_EQ(fixture_->Count("container"), 2);
}

TEST_F(CredentialsProviderTest, DestroyingTheProviderFailsWaitingGets) {
  fixture_->Configure({{"delay_ms", 3000}});
  auto provider = Make(ContainerEnv());
  std::promise<StatusOr<Credentials>> promise;
  provider->Get(CredentialsProvider::Deadline::max(),
                [&](StatusOr<Credentials> result) { promise.set_value(std::move(result)); });
  ASSERT_TRUE(Eventually([&] { return fixture_->Count("container") == 1; }));
  const auto start = std::chrono::steady_clock::now();
  provider.reset();
  auto future = promise.get_future();
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  const StatusOr<Credentials> result = future.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
}

// --- Parsers ------------------------------------------------------------------------------------

TEST(CredentialsParsersTest, Iso8601Utc) {
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("2026-12-05T15:37:55Z")), 1796485075000);
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("2026-12-05T15:37:55.559488Z")), 1796485075559);
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("2026-12-05T15:37:55.5+00:00")), 1796485075500);
  for (const char* bad :
       {"", "2026-12-05", "2026-12-05T15:37:55", "2026-12-05 15:37:55Z", "2026-02-30T00:00:00Z",
        "2026-12-05T24:00:00Z", "2026-12-05T15:37:55.Z", "2026-12-05T15:37:55+01:00",
        "-026-12-05T15:37:55Z", "2026-12-05T1:37:55Z", "next tuesday",
        // Found by fuzzing: past 2262, a TimePoint (int64 nanoseconds) overflows.
        "4052-12-05T15:37:55Z"}) {
    EXPECT_FALSE(ParseIso8601Utc(bad).ok()) << bad;
  }
}

std::string StsAnswer(const std::string& credentials) {
  return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
         "<AssumeRoleWithWebIdentityResult><Credentials>" +
         credentials +
         "</Credentials></AssumeRoleWithWebIdentityResult>"
         "</AssumeRoleWithWebIdentityResponse>";
}

TEST(CredentialsParsersTest, StsAnswer) {
  const std::string good =
      "<AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>a/b+c&lt;d&#61;</SecretAccessKey>"
      "<SessionToken>tok=</SessionToken><Expiration>2026-12-05T15:37:55Z</Expiration>";
  auto parsed = ParseAssumeRoleWithWebIdentityAnswer(StsAnswer(good));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->credentials.secret_access_key, "a/b+c<d=");
  EXPECT_EQ(parsed->credentials.session_token, "tok=");
  EXPECT_EQ(UnixMillis(parsed->expiration), 1796485075000);
  // An element whose name starts with another's is not mistaken for it.
  EXPECT_TRUE(
      ParseAssumeRoleWithWebIdentityAnswer(StsAnswer("<AccessKeyIdHint>x</AccessKeyIdHint>" + good))
          .ok());
  for (const std::string& bad :
       {std::string(""), std::string("<"), std::string("<AssumeRoleWithWebIdentityResponse"),
        StsAnswer(""), StsAnswer(good + "<SessionToken>again</SessionToken>"),
        StsAnswer("<AccessKeyId><![CDATA[ASIA]]></AccessKeyId>" +
                  good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId>ASIA&bogus;</AccessKeyId>" + good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId>ASIA&#0;</AccessKeyId>" + good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId>AS IA</AccessKeyId>" + good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId/>" + good.substr(good.find("<Secret"))),
        StsAnswer(good.substr(0, good.size() - 13))}) {
    auto result = ParseAssumeRoleWithWebIdentityAnswer(bad);
    EXPECT_FALSE(result.ok()) << bad;
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
    }
  }
}

TEST(CredentialsParsersTest, CredentialsJson) {
  const std::string good =
      R"({"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s/e+c","Token":"t",)"
      R"("Expiration":"2026-12-05T15:37:55Z","RoleArn":"arn:aws:iam::1:role/x"})";
  ASSERT_TRUE(ParseCredentialsJson(good).ok());
  const std::string expiration = R"("Expiration":"2026-12-05T15:37:55Z")";
  const std::vector<std::string> bad_answers = {
      "",
      "[]",
      "null",
      "\"x\"",
      "{",
      R"({"AccessKeyId":1})",
      R"({"Code":"Success","AccessKeyId":"A","SecretAccessKey":"s",)" + expiration + "}",
      R"({"Code":7,"AccessKeyId":"A","SecretAccessKey":"s","Token":"t",)" + expiration + "}",
      R"({"AccessKeyId":"A","SecretAccessKey":"s\nx","Token":"t",)" + expiration + "}",
      R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"",)" + expiration + "}",
      R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"t","Expiration":null})",
      "{\"AccessKeyId\":\"\xff\"}"};
  for (const std::string& bad : bad_answers) {
    EXPECT_FALSE(ParseCredentialsJson(bad).ok()) << bad;
  }
  // Deep nesting and a large answer are refused or parsed without a crash.
  EXPECT_FALSE(ParseCredentialsJson(std::string(5000, '[') + std::string(5000, ']')).ok());
}

}  // namespace
}  // namespace footfall::aws
