// Listener: accepts TCP connections on one endpoint and starts a Session for each, spreading
// connections round-robin over the server's io_contexts. Also tracks live sessions so shutdown can
// close idle ones. Accept runs on the first io_context; Stop() may be called from any thread.
#pragma once

#include <utility>  // Boost 1.74 Asio needs it in C++20

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "http/session.h"

namespace footfall::http {

// The live sessions of a server. Thread-safe.
class SessionRegistry {
 public:
  void Add(const std::shared_ptr<Session>& session);
  void Remove(const Session* session);
  size_t size() const;
  // Asks every live session to close once idle.
  void StopAllWhenIdle();

 private:
  mutable std::mutex mu_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens on `endpoint`. Errors: kUnavailable when the address is in use or not
  // available, naming it.
  static StatusOr<std::shared_ptr<Listener>> Create(
      std::vector<std::unique_ptr<boost::asio::io_context>>& contexts,
      const boost::asio::ip::tcp::endpoint& endpoint, const SessionContext& session_context,
      SessionRegistry& registry);

  // The bound endpoint (with the real port when 0 was asked for).
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Starts accepting.
  void Start();
  // Stops accepting (closes the listening socket). Thread-safe.
  void Stop();

 private:
  Listener(std::vector<std::unique_ptr<boost::asio::io_context>>& contexts,
           const SessionContext& session_context, SessionRegistry& registry);
  void Accept();

  std::vector<std::unique_ptr<boost::asio::io_context>>& contexts_;
  boost::asio::ip::tcp::acceptor acceptor_;
  const SessionContext& session_context_;
  SessionRegistry& registry_;
  size_t next_context_ = 0;
};

}  // namespace footfall::http
