#include "aws/credentials_provider.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "aws/credentials_test_support.h"

namespace footfall::aws {
namespace {

using namespace std::chrono_literals;

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

// --- The provider against the servers -----------------------------------------------------------

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
  // starts. Each Get still answers at once. Not "exactly 3": a retry that fails between two
  // steps of this loop is, rightly, followed by another one 11 s of fake time later, before the
  // loop sees the count (a run on a loaded machine counted 4, 2026-12-06).
  ASSERT_TRUE(Eventually([&] {
    clock.Advance(11s);
    EXPECT_TRUE(GetAndWait(*provider).answered_inline);
    return fixture_->Count("container") >= 3;
  }));
  const GetResult after_retry = GetAndWait(*provider);
  EXPECT_TRUE(after_retry.answered_inline);
  EXPECT_EQ(after_retry.result->access_key_id, first.result->access_key_id);
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

}  // namespace
}  // namespace footfall::aws
