#include "tests/postgres_server.h"
#include "tests/loopback.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

namespace footfall::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
// Ports tried by Start before it gives up (each one taken by someone else in the meantime).
constexpr int kPortAttempts = 8;

// Drops to the `postgres` user when running as root (PostgreSQL refuses root). In the child.
void DropPrivileges() {
  if (::getuid() != 0) return;
  const passwd* user = ::getpwnam("postgres");
  if (user == nullptr) ::_exit(126);
  if (::setgroups(0, nullptr) != 0 || ::setgid(user->pw_gid) != 0 ||
      ::setuid(user->pw_uid) != 0) {
    ::_exit(126);
  }
}

// Runs `args` (as the postgres user when root); returns its exit status, or -1.
pid_t Spawn(const std::vector<std::string>& args, bool die_with_parent, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (out >= 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
  }
  DropPrivileges();
  // After the user switch, which clears the parent-death signal.
  if (die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

std::string ReadFile(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
    std::fclose(f);
  }
  return out.size() > 2000 ? out.substr(out.size() - 2000) : out;
}

// A port for PostgreSQL on 127.0.0.1. PostgreSQL must be told its port (it cannot bind port 0 and
// say which it got), so the port is picked here, at random between 20000 and the start of the
// kernel's ephemeral range (ip_local_port_range). The kernel hands out ephemeral ports to whatever
// binds port 0 (every footfall the tests start) and to outgoing connections (every client), so
// none of those can be given this port: not before PostgreSQL binds it, not while it is stopped
// between Stop and Restart, and a client reconnecting to the stopped server cannot connect to
// itself. A process that binds a fixed port still could: Start then tries another.
int PickPort() {
  constexpr int kFirst = 20000;  // below: where fixed-port services usually live
  int low = 32768;
  int high = 60999;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> low >> high;
  if (low - kFirst < 1000) return FreeLoopbackPort();  // no room below: take an ephemeral one
  std::random_device random;
  return std::uniform_int_distribution<int>(kFirst, low - 1)(random);
}

// True if the postmaster's log says it could not listen because the address was in use.
bool PortWasTaken(const std::string& log) {
  return log.find("could not bind") != std::string::npos &&
         log.find("Address already in use") != std::string::npos;
}

}  // namespace

StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  namespace fs = std::filesystem;
  if (!fs::exists(std::string(kBin) + "/postgres")) {
    return UnavailableError(std::string("PostgreSQL 15 is not installed (") + kBin +
                            "/postgres missing; scripts/install-deps.sh installs postgresql-15)");
  }
  char pattern[] = "/tmp/footfall-pg-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return UnavailableError("mkdtemp failed");
  const std::string root = pattern;
  std::unique_ptr<PostgresServer> server(new PostgresServer(root + "/data", 0));
  if (::getuid() == 0) {
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) return UnavailableError("running as root but there is no postgres user");
    if (::chown(root.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return UnavailableError("cannot hand the temp dir to postgres");
    }
  }
  const std::string log = root + "/initdb.log";
  const pid_t initdb = Spawn({std::string(kBin) + "/initdb", "-D", server->data_dir_, "-U",
                              "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"},
                             true, log);
  int status = 0;
  ::waitpid(initdb, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError("initdb failed: " + ReadFile(log));
  }
  // Start-up fails, precisely and at once, when the port was taken after it was picked: the
  // postmaster logs "could not bind ...: Address already in use" and exits. Then another port.
  for (int attempt = 1;; ++attempt) {
    server->port_ = PickPort();
    std::filesystem::remove(root + "/postgres.log");
    Status launched = server->Launch();
    if (launched.ok()) return server;
    const bool exited = server->pid_ == 0;
    if (attempt == kPortAttempts || !exited || !PortWasTaken(ReadFile(root + "/postgres.log"))) {
      return launched;
    }
  }
}

Status PostgresServer::Launch() {
  const std::string root = std::filesystem::path(data_dir_).parent_path().string();
  const std::string log = root + "/postgres.log";
  pid_ = Spawn({std::string(kBin) + "/postgres", "-D", data_dir_, "-p", std::to_string(port_),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + root,
                "-c", "max_connections=100", "-c", "fsync=on", "-c", "synchronous_commit=on",
                // The log is read for its English words ("ready to accept connections").
                "-c", "lc_messages=C"},
               true, log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return UnavailableError("postgres exited during start-up: " + ReadFile(log));
    }
    // Accepting TCP is not enough (it answers "starting up" for a moment); the log line is.
    if (AcceptsConnections(port_) &&
        ReadFile(log).find("ready to accept connections") != std::string::npos) {
      return OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return UnavailableError("postgres did not start within 30 s: " + ReadFile(log));
}

std::string PostgresServer::uri() const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

StatusOr<std::string> PostgresServer::CreateDatabase(const std::string& name) {
  PGconn* conn = PQconnectdb(uri().c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, ("CREATE DATABASE \"" + name + "\"").c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) error = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(conn);
  if (!error.empty()) return UnavailableError("creating database " + name + ": " + error);
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

Status PostgresServer::Stop() {
  if (pid_ <= 0) return OkStatus();
  ::kill(pid_, SIGINT);  // "fast" shutdown: disconnect clients, checkpoint, exit
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = 0;
  return OkStatus();
}

Status PostgresServer::Restart() {
  RETURN_IF_ERROR(Stop());
  // The log is appended to; Launch waits for a new "ready" line only if the old one is gone.
  const std::string root = std::filesystem::path(data_dir_).parent_path().string();
  std::filesystem::remove(root + "/postgres.log");
  return Launch();
}

PostgresServer::~PostgresServer() {
  Stop().IgnoreError();
  std::error_code ignored;
  std::filesystem::remove_all(std::filesystem::path(data_dir_).parent_path(), ignored);
}

}  // namespace footfall::testing
