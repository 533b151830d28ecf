// `herd up`: runs a whole herd on one machine, one child process per server.
//
// Each child is this same executable running `serve NAME [--config FILE]`. A child that
// dies is reported and the others keep running. SIGINT or SIGTERM stops the herd: every
// child gets SIGTERM, and SIGKILL if it is still there after a few seconds. Children die
// with the supervisor even when it is killed outright, so none is left behind.
#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"

namespace herd::cli {

// `config_file` is passed to each child as given; without it the children use the
// built-in default, as the supervisor did. Returns the process exit status: 0 when a
// signal stopped the herd, 1 when every server has stopped on its own or one could not be
// started.
int run_herd(const config::HerdConfig& herd, const std::optional<std::string>& config_file);

}  // namespace herd::cli
