// Shared by the credentials provider's tests against servers (credentials_provider_test.cc,
// credential_sources_test.cc, one binary): the credentials fixture server, a made-up environment,
// a blocking Get, and the gtest fixture CredentialsProviderTest, which starts the servers once.
// For test threads; GetAndWait may be called from several at once, the rest from one.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "aws/credentials_provider.h"
#include "aws/http_client.h"
#include "base/clock.h"
#include "base/status.h"
#include "tests/moto_server.h"

// Real servers, no mocks: moto_server's STS (tests/moto_server.h) and
// tests/tools/aws_credentials_fixture.py, which serves the container credentials endpoint, IMDSv2
// and STS AssumeRoleWithWebIdentity as AWS documents them (tests/integration/test_credentials.py
// checks that botocore accepts it) and has knobs for faults and counters of what it was asked.

namespace footfall::aws {

using Env = std::map<std::string, std::string>;

inline constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/footfall";
// Handed out by the fixture where a test checks that no error message ever repeats them.
inline constexpr char kSecret[] = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY";
inline constexpr char kSessionToken[] = "IQoJb3JpZ2luX2VjSESSIONTOKENSECRET";

// --- Servers ------------------------------------------------------------------------------------

// A blocking HTTP exchange with a loopback server, through the client under test's own HTTP stack.
HttpMessage Exchange(const std::string& base_url, std::string method, std::string target,
                     std::string body = "");

// tests/tools/aws_credentials_fixture.py on a port the OS chose; killed with the test.
class CredentialsFixture {
 public:
  // Starts it and waits (up to 20 s) until it listens; null (and a test failure) when it cannot.
  static std::unique_ptr<CredentialsFixture> Start();

  ~CredentialsFixture();

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

// Calls provider.Get with a deadline `timeout` from now and waits for its answer.
GetResult GetAndWait(CredentialsProvider& provider,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// Polls `condition` until it holds or 10 s pass.
bool Eventually(const std::function<bool()>& condition);

// The time `iso` (ISO 8601 UTC) names.
TimePoint At(const char* iso);

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

// Options that read `env` as the environment, with `clock` (null: the system clock).
CredentialsProviderOptions OptionsWith(const Env& env, const Clock* clock = nullptr);

// A provider made by FromEnvironment(OptionsWith(env, clock)); null (and a test failure) on error.
std::shared_ptr<CredentialsProvider> Make(const Env& env, const Clock* clock = nullptr);

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

}  // namespace footfall::aws
