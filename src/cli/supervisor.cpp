#include "cli/supervisor.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

namespace herd::cli {

namespace {

using Clock = std::chrono::steady_clock;

// How long children get to stop after SIGTERM before they are killed.
constexpr std::chrono::seconds kGrace{5};

struct Child {
  std::string name;
  pid_t pid = 0;  // 0 once reaped
};

// The signals the supervisor waits for. They stay blocked for its whole life, so they are
// taken synchronously with sigtimedwait and no handler or global flag is needed.
sigset_t watched_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  return set;
}

std::size_t alive(const std::vector<Child>& children) {
  std::size_t count = 0;
  for (const Child& child : children) count += child.pid != 0 ? 1 : 0;
  return count;
}

std::string describe(const Child& child, int status) {
  std::string text = child.name + " (pid " + std::to_string(child.pid) + ")";
  if (WIFEXITED(status)) return text + " exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return text + " was killed by signal " + std::to_string(WTERMSIG(status));
  return text + " ended with wait status " + std::to_string(status);
}

// Collects every child that has ended. While stopping, an orderly exit is expected and
// only the others are reported.
void reap(std::vector<Child>& children, bool stopping) {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;  // none ended yet, or no children left
    for (Child& child : children) {
      if (child.pid != pid) continue;
      const bool orderly = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                           (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
      if (!stopping || !orderly) std::cerr << "herd: " << describe(child, status) << std::endl;
      child.pid = 0;
    }
  }
}

// Waits for one of the watched signals for at most `timeout`; 0 when none came.
int wait_signal(const sigset_t& signals, Clock::duration timeout) {
  if (timeout < Clock::duration::zero()) timeout = Clock::duration::zero();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  timespec wait{};
  wait.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  wait.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  const int taken = ::sigtimedwait(&signals, nullptr, &wait);
  return taken < 0 ? 0 : taken;
}

void signal_all(const std::vector<Child>& children, int sig) {
  for (const Child& child : children) {
    if (child.pid != 0) ::kill(child.pid, sig);
  }
}

// SIGTERM to every child, then SIGKILL to those still running after the grace period (or
// at once, if the operator asks a second time).
void stop_all(std::vector<Child>& children, const sigset_t& signals) {
  signal_all(children, SIGTERM);
  const auto deadline = Clock::now() + kGrace;
  for (;;) {
    reap(children, true);
    if (alive(children) == 0) return;
    const auto left = deadline - Clock::now();
    const int taken = left > Clock::duration::zero() ? wait_signal(signals, left) : SIGKILL;
    if (taken == SIGINT || taken == SIGTERM || taken == SIGKILL) {
      // SIGKILL stands for the grace period running out; the others are a second request.
      const std::string why = taken == SIGKILL
                                  ? "did not stop within " + std::to_string(kGrace.count()) + " s"
                                  : "is still stopping, and stop was asked again";
      for (const Child& child : children) {
        if (child.pid == 0) continue;
        std::cerr << "herd: " << child.name << " (pid " << child.pid << ") " << why
                  << "; killing it" << std::endl;
        ::kill(child.pid, SIGKILL);
      }
      for (Child& child : children) {
        int status = 0;
        if (child.pid != 0 && ::waitpid(child.pid, &status, 0) == child.pid) child.pid = 0;
      }
      return;
    }
  }
}

// sigaction rather than signal(): the same effect, but thread safe and async-signal-safe.
void restore_default_action(int signal_number) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(signal_number, &action, nullptr);
}

// In the child, between fork and exec. Only async-signal-safe calls: the arguments were
// prepared before the fork.
[[noreturn]] void exec_server(const std::vector<char*>& argv, const sigset_t& original_mask,
                              pid_t supervisor) {
  // Without the supervisor the child must not linger; the check after the prctl covers a
  // supervisor that died before it took effect.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != supervisor) ::_exit(1);
  // Dispositions set to ignore survive exec; the server must get SIGINT and SIGTERM.
  restore_default_action(SIGINT);
  restore_default_action(SIGTERM);
  ::pthread_sigmask(SIG_SETMASK, &original_mask, nullptr);
  ::execv("/proc/self/exe", argv.data());
  static constexpr char kMessage[] = "herd: cannot run /proc/self/exe\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(127);
}

}  // namespace

int run_herd(const config::HerdConfig& herd, const std::optional<std::string>& config_file) {
  const sigset_t signals = watched_signals();
  sigset_t original_mask;
  // Blocked until the process ends: a SIGTERM still pending when the herd has stopped must
  // not turn a clean exit into death by signal. (pthread_sigmask, as sigprocmask is
  // unspecified once a process has threads; both are async-signal-safe.)
  ::pthread_sigmask(SIG_BLOCK, &signals, &original_mask);
  // An inherited "ignore" for SIGCHLD would make the kernel reap children unseen.
  restore_default_action(SIGCHLD);
  const pid_t self = ::getpid();

  std::vector<Child> children;
  for (const config::ServerConfig& server : herd.servers) {
    std::vector<std::string> args = {"herd", "serve", server.name};
    if (config_file) {
      args.emplace_back("--config");
      args.push_back(*config_file);
    }
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid == 0) exec_server(argv, original_mask, self);
    if (pid < 0) {
      std::cerr << "herd: cannot start " << server.name << ": "
                << std::system_category().message(errno) << std::endl;
      stop_all(children, signals);
      return 1;
    }
    children.push_back({server.name, pid});
    std::cout << "herd: started " << server.name << " (pid " << pid << ") on " << server.host << ":"
              << server.port << std::endl;
  }

  for (;;) {
    reap(children, false);
    if (alive(children) == 0) {
      std::cerr << "herd: every server has stopped" << std::endl;
      return 1;
    }
    // The timeout only guards against a lost wake-up; SIGCHLD normally ends the wait.
    const int taken = wait_signal(signals, std::chrono::seconds(1));
    if (taken == SIGINT || taken == SIGTERM) {
      std::cerr << "herd: " << (taken == SIGINT ? "SIGINT" : "SIGTERM") << ": stopping every server"
                << std::endl;
      stop_all(children, signals);
      return 0;
    }
  }
}

}  // namespace herd::cli
