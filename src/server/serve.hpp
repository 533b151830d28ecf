// Running one herd server: the entry point `herd serve NAME` calls.
#pragma once

#include <string_view>

#include "config/config.hpp"

namespace herd::server {

struct ServeOptions {
  unsigned threads = 1;  // event-loop threads
};

// Runs the server called `name` of `herd` until SIGINT or SIGTERM; returns the process
// exit status. Throws config::ConfigError when the server cannot start as configured
// (unknown name, port in use, unreadable CA or key file), with a message saying why. The
// files and directories it creates (data files, logs) are readable by its user alone: it
// adds group and others to the process's umask.
int serve(const config::HerdConfig& herd, std::string_view name, const ServeOptions& options);

}  // namespace herd::server
