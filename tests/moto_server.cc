#include "tests/moto_server.h"
#include "tests/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace footfall::testing {
namespace {

// True once something on `port` answers an HTTP request with an HTTP status line.
bool AnswersHttp(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const char request[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request, sizeof request - 1, 0) > 0) {
      char reply[16] = {};
      ok = ::recv(fd, reply, sizeof reply - 1, 0) > 0 && std::strncmp(reply, "HTTP/", 5) == 0;
    }
  }
  ::close(fd);
  return ok;
}

// The port moto_server_atomic.py wrote to `path` (it renames the file into place, so it is whole
// or absent), or 0 while there is none.
int ReadPort(const std::string& path) {
  std::ifstream in(path);
  int port = 0;
  return in >> port ? port : 0;
}

// Removes a temporary directory and what is in it when the start-up is over.
struct TempDir {
  explicit TempDir(std::string dir) : path(std::move(dir)) {}
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string path;
};

}  // namespace

StatusOr<std::unique_ptr<MotoServer>> MotoServer::Start(const std::string& tls_cert,
                                                        const std::string& tls_key) {
  // The wrapper binds port 0 and writes the port the OS gave it to a file: picking a free port
  // here and passing it down would leave a gap in which another process can take it (or, worse,
  // listen on it and answer in moto's place).
  char pattern[] = "/tmp/footfall-moto-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    return UnavailableError(std::string("mkdtemp: ") + std::strerror(errno));
  }
  const TempDir temp_dir(pattern);
  const std::string port_file = temp_dir.path + "/port";
  // moto's app behind a per-request lock: see tests/tools/README.md for the lost-update race.
  std::vector<std::string> args = {"python3", FOOTFALL_SOURCE_DIR "/tests/tools/moto_server_atomic.py",
                                   "-H", "127.0.0.1", "-p", "0", "--port-file", port_file};
  const bool tls = !tls_cert.empty();
  if (tls) args.insert(args.end(), {"-c", tls_cert, "-k", tls_key});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return UnavailableError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // The server must not outlive the test, even when the test is killed (ctest timeout).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, 1);  // moto logs every request; keep test output readable
    ::dup2(null_fd, 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  std::unique_ptr<MotoServer> server(new MotoServer(pid, 0, tls));
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = 0;
      return UnavailableError("moto_server exited during start-up (status " +
                              std::to_string(status) + "; is moto installed for python3?)");
    }
    if (server->port_ == 0) server->port_ = ReadPort(port_file);
    // The port file is written once the socket listens; the answer shows moto's app is serving.
    if (server->port_ != 0 &&
        (tls ? AcceptsConnections(server->port_) : AnswersHttp(server->port_))) {
      return server;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return UnavailableError(server->port_ == 0 ? "moto_server did not bind a port within 20 s"
                                             : "moto_server did not answer on port " +
                                                   std::to_string(server->port_) + " within 20 s");
}

MotoServer::~MotoServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
}

}  // namespace footfall::testing
