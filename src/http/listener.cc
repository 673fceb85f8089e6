#include "http/listener.h"

#include <boost/asio/post.hpp>

namespace footfall::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void SessionRegistry::Add(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mu_);
  sessions_.emplace(session.get(), session);
}

void SessionRegistry::Remove(const Session* session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
}

size_t SessionRegistry::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void SessionRegistry::StopAllWhenIdle() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) session->StopWhenIdle();
}

Listener::Listener(std::vector<std::unique_ptr<asio::io_context>>& contexts,
                   const SessionContext& session_context, SessionRegistry& registry)
    : contexts_(contexts),
      acceptor_(*contexts.front()),
      session_context_(session_context),
      registry_(registry) {}

StatusOr<std::shared_ptr<Listener>> Listener::Create(
    std::vector<std::unique_ptr<asio::io_context>>& contexts, const tcp::endpoint& endpoint,
    const SessionContext& session_context, SessionRegistry& registry) {
  std::shared_ptr<Listener> listener(new Listener(contexts, session_context, registry));
  boost::system::error_code error;
  const std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  listener->acceptor_.open(endpoint.protocol(), error);
  if (!error) listener->acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) listener->acceptor_.bind(endpoint, error);
  if (!error) listener->acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) return UnavailableError("cannot listen on " + where + ": " + error.message());
  return listener;
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ignored;
  return acceptor_.local_endpoint(ignored);
}

void Listener::Start() { Accept(); }

void Listener::Stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void Listener::Accept() {
  asio::io_context& target = *contexts_[next_context_];
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor_.async_accept(target, [self = shared_from_this()](boost::system::error_code error,
                                                             tcp::socket socket) {
    if (error == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!error) {
      if (self->registry_.size() >= self->session_context_.limits.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);  // over the limit: refuse rather than queue without bound
      } else {
        socket.set_option(tcp::no_delay(true), error);
        auto session = std::make_shared<Session>(std::move(socket), self->session_context_);
        self->registry_.Add(session);
        session->Start();
      }
    }
    // Transient accept errors (e.g. EMFILE) must not stop the server: keep accepting.
    self->Accept();
  });
}

}  // namespace footfall::http
