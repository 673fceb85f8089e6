// The seed's three test cases (a successful count, a failing store, the CORS preflight), re-done
// through real HTTP on a loopback port against a real SQLite file.
#include <utility>  // Boost 1.74 Asio needs it in C++20

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <thread>

#include "base/clock.h"
#include "base/random.h"
#include "core/service.h"
#include "http/server.h"
#include "store/fault_injecting_store.h"
#include "store/sqlite/sqlite_store.h"

namespace footfall {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;

class SeedCasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("footfall-seed-cases-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    db_path_ = (dir_ / "footfall.db").string();
    store::sqlite::SqliteOptions options;
    options.path = db_path_;
    sqlite_ = *store::sqlite::SqliteStore::Open(options);
    faulty_ = std::make_unique<store::FaultInjectingStore>(*sqlite_);
    core::ServiceOptions service_options;
    service_options.allowed_origins = {"https://resume.example"};
    service_ = *core::Service::Create(service_options, *faulty_, clock_, random_);
    http::HttpServerOptions server_options;
    server_options.port = 0;
    server_options.threads = 2;
    server_options.handle_signals = false;
    server_ = *http::HttpServer::Create(server_options, *service_, clock_, nullptr);
    thread_ = std::thread([this] { server_->Run(); });
  }

  void TearDown() override {
    server_->Stop();
    thread_.join();
    server_.reset();
    service_.reset();
    faulty_.reset();
    sqlite_.reset();
    fs::remove_all(dir_);
  }

  bhttp::response<bhttp::string_body> Send(bhttp::verb verb, const std::string& target,
                                           std::vector<std::pair<std::string, std::string>> headers) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    bhttp::request<bhttp::string_body> request(verb, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    for (auto& [name, value] : headers) request.set(name, value);
    bhttp::write(socket, request);
    boost::beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(socket, buffer, response);
    return response;
  }

  int64_t QueryInt(const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(statement), SQLITE_ROW);
    const int64_t value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
  }

  fs::path dir_;
  std::string db_path_;
  SystemClock clock_;
  OsRandom random_;
  std::unique_ptr<store::sqlite::SqliteStore> sqlite_;
  std::unique_ptr<store::FaultInjectingStore> faulty_;
  std::unique_ptr<core::Service> service_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
};

TEST_F(SeedCasesTest, SuccessfulCountWritesVisitAndCounter) {
  auto response = Send(bhttp::verb::get, "/count",
                       {{"Origin", "https://resume.example"},
                        {"Referer", "https://resume.example/index.html"},
                        {"User-Agent", "Mozilla/5.0 (test)"}});
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(response[bhttp::field::access_control_allow_origin], "https://resume.example");
  EXPECT_EQ(response.body(), R"({"count": 1, "message": "Visitor count updated successfully"})");
  EXPECT_EQ(QueryInt("SELECT count FROM counters WHERE name = 'total'"), 1);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM visits WHERE path = '/index.html' AND "
                     "site = 'resume.example' AND user_agent = 'Mozilla/5.0 (test)'"),
            1);
}

TEST_F(SeedCasesTest, FailingStoreAnswersCleanJsonAndLeaksNothing) {
  faulty_->FailAll(UnavailableError("disk I/O error: /secret/path/footfall.db"));
  auto response = Send(bhttp::verb::get, "/count", {{"Origin", "https://resume.example"}});
  EXPECT_EQ(response.result_int(), 503);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(response.body(),
            R"({"error": "store_unavailable", "message": "The counter store is unavailable; retry later."})");
  EXPECT_EQ(response.body().find("secret"), std::string::npos);
  faulty_->Heal();
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM visits"), 0);
}

TEST_F(SeedCasesTest, OptionsPreflight) {
  auto response = Send(bhttp::verb::options, "/count",
                       {{"Origin", "https://resume.example"},
                        {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(response.result_int(), 204);
  EXPECT_EQ(response[bhttp::field::access_control_allow_origin], "https://resume.example");
  EXPECT_EQ(response[bhttp::field::access_control_allow_methods], "GET, OPTIONS");
  EXPECT_EQ(response[bhttp::field::access_control_allow_headers], "Content-Type");
  EXPECT_EQ(response[bhttp::field::access_control_max_age], "86400");
  EXPECT_EQ(response[bhttp::field::vary], "Origin");
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM visits"), 0);
}

}  // namespace
}  // namespace footfall
