#include "aws/credential_sources.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "aws/credentials_test_support.h"

namespace footfall::aws {
namespace {

// Any JWT-shaped string: moto does not verify it, the fixture compares it when told to.
constexpr char kJwt[] =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpmb290ZmFsbCJ9.c2ln";

// --- Web identity -------------------------------------------------------------------------------

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

// --- Container credentials ----------------------------------------------------------------------

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

TEST_F(CredentialsProviderTest, TransientFailuresAreRetriedWithinOneFetch) {
  fixture_->Configure({{"fail_next", 2}});
  auto provider = Make(ContainerEnv());
  const GetResult got = GetAndWait(*provider);
  ASSERT_TRUE(got.result.ok()) << got.result.status().ToString();
  EXPECT_EQ(fixture_->Count("container"), 3);
}

// --- EC2 instance metadata ----------------------------------------------------------------------

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

}  // namespace
}  // namespace footfall::aws
