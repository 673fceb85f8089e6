// http_floor_server: the cheapest Boost.Beast/Asio server shaped like footfall's HTTP adapter, for
// `bench/run.sh`. It answers every request with the bytes footfall sends for `GET /count` (same
// status line, headers and body length) and does nothing else: no routing, visit, store, log line
// or metrics. Same shape as src/http: one io_context per core, one acceptor on the first loop
// handing connections round-robin to the loops, beast::tcp_stream, a request_parser per request
// over a flat_buffer, the answer serialised by hand into one buffer and written with async_write.
//
// So footfall's CPU per request minus this server's is what footfall's own work costs, and this
// server minus nginx is what the framework costs. Usage: http_floor_server [PORT]; prints
// "listening 127.0.0.1:PORT" on stdout, serves until SIGTERM/SIGINT. Binds loopback only.
#include <utility>  // Boost 1.74 Asio needs it in C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

// What footfall answers to `GET /count` (its count has as many digits as a benchmark's).
constexpr char kBody[] = R"({"count": 1234567, "message": "Visitor count updated successfully"})";

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(tcp::socket socket) : stream_(std::move(socket)) {}

  // Runs the connection on its socket's io_context.
  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(0);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code error, size_t) {
                        if (!error) self->Answer();
                      });
  }

  void Answer() {
    const bool keep_alive = parser_->get().keep_alive();
    wire_.clear();
    wire_ += "HTTP/1.1 200 OK\r\nServer: footfall\r\nX-Request-Id: 11aa0be0-";
    wire_ += std::to_string(++requests_);
    wire_ += "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nVary: Origin";
    wire_ += "\r\nX-Content-Type-Options: nosniff";
    if (!keep_alive) wire_ += "\r\nConnection: close";
    wire_ += "\r\nContent-Length: ";
    wire_ += std::to_string(sizeof kBody - 1);
    wire_ += "\r\n\r\n";
    wire_ += kBody;
    asio::async_write(stream_, asio::buffer(wire_),
                      [self = shared_from_this(), keep_alive](beast::error_code error, size_t) {
                        if (!error && keep_alive) self->ReadRequest();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{64 * 1024};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string wire_;
  uint64_t requests_ = 0;
};

class Acceptor {
 public:
  Acceptor(std::vector<std::unique_ptr<asio::io_context>>& loops, const tcp::endpoint& endpoint)
      : loops_(loops), acceptor_(*loops.front(), endpoint) {}

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void Stop() { acceptor_.close(); }

  void Accept() {
    asio::io_context& loop = *loops_[next_++ % loops_.size()];
    acceptor_.async_accept(loop, [this](beast::error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) {
        beast::error_code ignored;  // a peer gone already fails its first read instead
        socket.set_option(tcp::no_delay(true), ignored);
        auto connection = std::make_shared<Connection>(std::move(socket));
        connection->Start();
      }
      Accept();
    });
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>>& loops_;
  tcp::acceptor acceptor_;
  size_t next_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const long port = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  if (argc > 2 || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: http_floor_server [PORT]\n");
    return 2;
  }
  const unsigned loop_count = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  for (unsigned i = 0; i < loop_count; ++i) {
    loops.push_back(std::make_unique<asio::io_context>(1));
    keep_running.push_back(asio::make_work_guard(*loops.back()));
  }
  Acceptor acceptor(loops, tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<uint16_t>(port)));
  acceptor.Accept();
  asio::signal_set signals(*loops.front(), SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code, int) {
    acceptor.Stop();
    for (auto& loop : loops) loop->stop();
  });
  std::printf("listening 127.0.0.1:%u\n", acceptor.port());
  std::fflush(stdout);

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < loop_count; ++i) threads.emplace_back([&loops, i] { loops[i]->run(); });
  loops.front()->run();
  for (auto& thread : threads) thread.join();
  return 0;
}
