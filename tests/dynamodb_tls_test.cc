// The DynamoDB store over HTTPS: a real TLS server (moto with a certificate made here), the
// certificate verified against a CA file; and OpenSSL's s_server with a certificate the client
// does not trust, refused once, not retried.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "store/blocking.h"
#include "store/open_store.h"
#include "tests/moto_server.h"

namespace footfall::store {
namespace {

namespace fs = std::filesystem;

class DynamoDbTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("footfall-tls-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    // A self-signed certificate for localhost and 127.0.0.1, and an unrelated one.
    for (const char* name : {"server", "other"}) {
      const std::string command =
          "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
          (*dir_ / (std::string(name) + ".key")).string() + " -out " +
          (*dir_ / (std::string(name) + ".pem")).string() + " 2>/dev/null";
      ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a certificate";
    }
    auto moto = testing::MotoServer::Start((*dir_ / "server.pem").string(),
                                           (*dir_ / "server.key").string());
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value().release();
    ::setenv("AWS_ACCESS_KEY_ID", "testing", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
  }
  static void TearDownTestSuite() {
    delete moto_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static std::string Uri(const std::string& host, const std::string& table) {
    return "dynamodb://" + table + "?region=us-east-1&endpoint=https://" + host + ":" +
           std::to_string(moto_->port());
  }

  static fs::path* dir_;
  static testing::MotoServer* moto_;
};

fs::path* DynamoDbTlsTest::dir_ = nullptr;
testing::MotoServer* DynamoDbTlsTest::moto_ = nullptr;

TEST_F(DynamoDbTlsTest, VerifiedCertificateByNameAndByAddress) {
  ::setenv("FOOTFALL_CA_FILE", (*dir_ / "server.pem").c_str(), 1);
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    const std::string uri = Uri(host, "tls-" + (host == "localhost" ? std::string("name") : "ip"));
    ASSERT_TRUE(MigrateStore(uri).ok()) << MigrateStore(uri).ToString();
    auto store = OpenStore(uri);
    ASSERT_TRUE(store.ok());
    Visit visit;
    visit.visit_id = "019ab8f0-0000-7000-8000-00000000000" + std::string(host == "localhost" ? "1" : "2");
    EXPECT_EQ(RecordVisitAndWait(**store, visit)->total, 1) << host;
  }
}

TEST_F(DynamoDbTlsTest, UntrustedCertificateIsRefusedAtOnceWithItsCause) {
  // OpenSSL's own server, presenting the certificate the client does not trust, for exactly one
  // connection: a retry would find nothing listening and report that instead of the cause.
  // Port 0: s_server binds a free port and announces it as "ACCEPT 127.0.0.1:PORT".
  const std::string command =
      "exec timeout 60 openssl s_server -www -naccept 1 -accept 127.0.0.1:0 -cert " +
      (*dir_ / "other.pem").string() + " -key " + (*dir_ / "other.key").string() +
      " </dev/null 2>&1";
  FILE* server = ::popen(command.c_str(), "r");
  ASSERT_NE(server, nullptr);
  constexpr std::string_view kAccept = "ACCEPT 127.0.0.1:";
  std::string port;
  char line[256];
  while (port.empty() && std::fgets(line, sizeof line, server) != nullptr) {
    std::string_view text(line);
    if (!text.starts_with(kAccept)) continue;
    text.remove_prefix(kAccept.size());
    port = text.substr(0, text.find('\n'));
  }
  ASSERT_FALSE(port.empty()) << "openssl s_server did not announce its port";
  ::setenv("FOOTFALL_CA_FILE", (*dir_ / "server.pem").c_str(), 1);
  auto store =
      OpenStore("dynamodb://tls-refused?region=us-east-1&endpoint=https://localhost:" + port);
  ASSERT_TRUE(store.ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  StatusOr<int64_t> total = ReadTotalAndWait(**store, deadline);
  EXPECT_EQ(total.status().code(), StatusCode::kUnavailable) << total.status().ToString();
  EXPECT_NE(total.status().message().find("TLS handshake"), std::string::npos)
      << total.status().ToString();
  EXPECT_NE(total.status().message().find("certificate verify failed"), std::string::npos)
      << total.status().ToString();
  EXPECT_EQ(::pclose(server), 0) << "openssl s_server did not see exactly one connection";
}

}  // namespace
}  // namespace footfall::store
