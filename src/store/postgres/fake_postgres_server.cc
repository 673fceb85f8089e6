#include "store/postgres/fake_postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace footfall::store::postgres {
namespace {

constexpr int32_t kSslRequest = 80877103;
constexpr int32_t kGssEncRequest = 80877104;

void AppendInt32(std::string& out, int32_t value) {
  const uint32_t v = static_cast<uint32_t>(value);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift & 0xff));
}

void AppendInt16(std::string& out, int16_t value) {
  const uint16_t v = static_cast<uint16_t>(value);
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

int32_t ReadInt32(std::string_view bytes) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(bytes[i]);
  return static_cast<int32_t>(v);
}

std::string Message(char type, std::string_view body) {
  std::string out(1, type);
  AppendInt32(out, static_cast<int32_t>(body.size() + 4));
  out += body;
  return out;
}

std::string Text(std::string_view text) { return std::string(text) + '\0'; }

// What a server sends after a startup message it accepts without a password.
std::string StartupAnswer() {
  std::string out;
  std::string ok;
  AppendInt32(ok, 0);  // AuthenticationOk
  out += Message('R', ok);
  out += Message('S', Text("server_version") + Text("15.0"));
  out += Message('S', Text("client_encoding") + Text("UTF8"));
  out += Message('S', Text("standard_conforming_strings") + Text("on"));
  out += Message('S', Text("integer_datetimes") + Text("on"));
  std::string key;
  AppendInt32(key, 4242);
  AppendInt32(key, 42);
  out += Message('K', key);
  out += Message('Z', "I");
  return out;
}

// The answer to `sql`: one text column holding "0" for a SELECT, else the command's first word as
// its tag. `extended`: the statement came as Parse/Bind/Describe/Execute/Sync, not as Query.
std::string StatementAnswer(std::string_view sql, bool extended) {
  while (!sql.empty() && std::isspace(static_cast<unsigned char>(sql.front())))
    sql.remove_prefix(1);
  std::string word;
  for (char c : sql) {
    if (!std::isalpha(static_cast<unsigned char>(c))) break;
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  std::string out;
  if (extended) out += Message('1', "") + Message('2', "");
  if (word == "SELECT") {
    std::string columns;
    AppendInt16(columns, 1);
    columns += Text("x");
    AppendInt32(columns, 0);   // table
    AppendInt16(columns, 0);   // column number
    AppendInt32(columns, 25);  // type: text
    AppendInt16(columns, -1);  // variable length
    AppendInt32(columns, -1);  // no modifier
    AppendInt16(columns, 0);   // text format
    out += Message('T', columns);
    std::string row;
    AppendInt16(row, 1);
    AppendInt32(row, 1);
    row += "0";
    out += Message('D', row);
    out += Message('C', Text("SELECT 1"));
  } else {
    if (extended) out += Message('n', "");  // the portal returns no rows
    out += Message('C', Text(word == "INSERT" ? "INSERT 0 0" : word));
  }
  out += Message('Z', "I");
  return out;
}

void SendAll(int socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;  // the client is gone; its next read tells the test
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
}

struct Client {
  int socket = -1;
  FakePostgresServer::Conduct conduct{};
  bool started = false;  // the startup message has been answered
  bool reading = true;
  int answered = 0;  // statements answered
  std::string input;
  std::string statement;  // of the last Parse message
};

// How many statements `conduct` answers.
int AnswerLimit(FakePostgresServer::Conduct conduct) {
  using Conduct = FakePostgresServer::Conduct;
  switch (conduct) {
    case Conduct::kFrozen:
    case Conduct::kSilentAfterStartup:
      return 0;
    case Conduct::kSilentAfterSetup:
    case Conduct::kDeafAfterSetup:
      return 1;
    case Conduct::kAnswers:
      return 1 << 30;
  }
  return 0;
}

// Handles the complete messages in client.input. Returns false once the client said goodbye.
bool Handle(Client& client) {
  std::string& in = client.input;
  while (client.reading) {
    if (!client.started) {
      if (in.size() < 8) return true;
      const int32_t length = ReadInt32(in);
      if (length < 8 || in.size() < static_cast<size_t>(length)) return true;
      const int32_t code = ReadInt32(std::string_view(in).substr(4));
      in.erase(0, static_cast<size_t>(length));
      if (code == kSslRequest || code == kGssEncRequest) {
        SendAll(client.socket, "N");  // no encryption: go on in the clear
        continue;
      }
      SendAll(client.socket, StartupAnswer());
      client.started = true;
      continue;
    }
    if (in.size() < 5) return true;
    const char type = in[0];
    const int32_t length = ReadInt32(std::string_view(in).substr(1));
    if (length < 4 || in.size() < static_cast<size_t>(length) + 1) return true;
    const std::string body = in.substr(5, static_cast<size_t>(length) - 4);
    in.erase(0, static_cast<size_t>(length) + 1);
    if (type == 'X') return false;
    if (type == 'P') {
      const size_t name_end = body.find('\0');
      client.statement = body.substr(name_end + 1, body.find('\0', name_end + 1) - name_end - 1);
      continue;
    }
    if (type != 'S' && type != 'Q') continue;  // Bind, Describe, Execute: answered at Sync
    if (client.answered >= AnswerLimit(client.conduct)) continue;
    const std::string sql = type == 'Q' ? body.substr(0, body.find('\0')) : client.statement;
    SendAll(client.socket, StatementAnswer(sql, type == 'S'));
    ++client.answered;
    if (client.conduct == FakePostgresServer::Conduct::kDeafAfterSetup) client.reading = false;
  }
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<FakePostgresServer>> FakePostgresServer::Start(
    std::vector<Conduct> conducts) {
  if (conducts.empty()) return InternalError("no conduct given");
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return InternalError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener, 64) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listener);
    return InternalError("listening on 127.0.0.1: " + why);
  }
  return std::unique_ptr<FakePostgresServer>(
      new FakePostgresServer(listener, ntohs(address.sin_port), std::move(conducts)));
}

FakePostgresServer::FakePostgresServer(int listener, int port, std::vector<Conduct> conducts)
    : listener_(listener), port_(port), conducts_(std::move(conducts)) {
  thread_ = std::thread([this] { Serve(); });
}

FakePostgresServer::~FakePostgresServer() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

std::string FakePostgresServer::Uri(const std::string& query) const {
  return "postgres://footfall@127.0.0.1:" + std::to_string(port_) + "/footfall" + query;
}

void FakePostgresServer::Serve() {
  std::vector<Client> clients;
  while (!stop_) {
    std::vector<pollfd> watched{{listener_, POLLIN, 0}};
    std::vector<size_t> watched_client;  // index in `clients` of watched[i + 1]
    for (size_t i = 0; i < clients.size(); ++i) {
      if (clients[i].reading) {
        watched.push_back({clients[i].socket, POLLIN, 0});
        watched_client.push_back(i);
      }
    }
    if (::poll(watched.data(), watched.size(), 20) <= 0) continue;  // 20 ms: notices stop_
    std::vector<size_t> gone;
    for (size_t w = 1; w < watched.size(); ++w) {
      if (watched[w].revents == 0) continue;
      Client& client = clients[watched_client[w - 1]];
      char buffer[65536];
      const ssize_t got = ::recv(client.socket, buffer, sizeof(buffer), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        gone.push_back(watched_client[w - 1]);
        continue;
      }
      client.input.append(buffer, static_cast<size_t>(got));
      if (!Handle(client)) gone.push_back(watched_client[w - 1]);
    }
    std::sort(gone.rbegin(), gone.rend());
    for (size_t i : gone) {
      ::close(clients[i].socket);
      clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if ((watched[0].revents & POLLIN) != 0) {
      const int socket = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (socket < 0) continue;
      const int n = connections_.fetch_add(1);
      Client client;
      client.socket = socket;
      client.conduct = conducts_[std::min(static_cast<size_t>(n), conducts_.size() - 1)];
      client.reading = client.conduct != Conduct::kFrozen;
      clients.push_back(std::move(client));
    }
  }
  for (Client& client : clients) ::close(client.socket);
}

}  // namespace footfall::store::postgres
