#include "aws/credentials_test_support.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace footfall::aws {

using namespace std::chrono_literals;

HttpMessage Exchange(const std::string& base_url, std::string method, std::string target,
                     std::string body) {
  auto endpoint = ParseEndpointUrl(base_url);
  EXPECT_TRUE(endpoint.ok());
  HttpClientOptions options;
  options.endpoint = *endpoint;
  auto client = AsyncHttpClient::Create(options);
  EXPECT_TRUE(client.ok());
  HttpMessage request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  if (!request.body.empty()) request.headers = {{"Content-Type", "application/json"}};
  std::promise<HttpOutcome> promise;
  (*client)->Send(request, std::chrono::steady_clock::now() + 10s,
                  [&](HttpOutcome outcome) { promise.set_value(std::move(outcome)); });
  HttpOutcome outcome = promise.get_future().get();
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  return outcome.response;
}

std::unique_ptr<CredentialsFixture> CredentialsFixture::Start() {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("footfall-credfix-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string port_file = dir + "/port";
  std::filesystem::remove(port_file);
  std::vector<std::string> args = {"python3",
                                   FOOTFALL_SOURCE_DIR "/tests/tools/aws_credentials_fixture.py",
                                   "--port-file", port_file};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  auto fixture = std::unique_ptr<CredentialsFixture>(new CredentialsFixture(pid));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    if (in >> fixture->port_) {
      std::filesystem::remove_all(dir);
      return fixture;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      fixture->pid_ = 0;
      ADD_FAILURE() << "aws_credentials_fixture.py exited during start-up";
      return nullptr;
    }
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "aws_credentials_fixture.py did not listen within 20 s";
  return nullptr;
}

CredentialsFixture::~CredentialsFixture() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

GetResult GetAndWait(CredentialsProvider& provider, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<std::pair<StatusOr<Credentials>, bool>>>();
  auto future = promise->get_future();
  const std::thread::id caller = std::this_thread::get_id();
  provider.Get(std::chrono::steady_clock::now() + timeout,
               [promise, caller](StatusOr<Credentials> result) {
                 promise->set_value({std::move(result), std::this_thread::get_id() == caller});
               });
  if (future.wait_for(timeout + 5s) != std::future_status::ready) {
    ADD_FAILURE() << "Get never called back";
    return {UnavailableError("no callback"), false};
  }
  auto [result, answered_inline] = future.get();
  return {std::move(result), answered_inline};
}

bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

TimePoint At(const char* iso) { return *ParseIso8601Utc(iso); }

CredentialsProviderOptions OptionsWith(const Env& env, const Clock* clock) {
  CredentialsProviderOptions options;
  options.getenv = [env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  options.clock = clock;
  options.retry_backoff = 10ms;  // keep retried faults quick
  return options;
}

std::shared_ptr<CredentialsProvider> Make(const Env& env, const Clock* clock) {
  auto provider = CredentialsProvider::FromEnvironment(OptionsWith(env, clock));
  EXPECT_TRUE(provider.ok()) << provider.status().ToString();
  return provider.ok() ? *provider : nullptr;
}

CredentialsFixture* CredentialsProviderTest::fixture_ = nullptr;
footfall::testing::MotoServer* CredentialsProviderTest::moto_ = nullptr;

}  // namespace footfall::aws
