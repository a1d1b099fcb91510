#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace remora {

Status setLogLevel(std::string_view level) {
  static const bool kInitialised = [] {
    auto logger = spdlog::stderr_logger_mt("remora");
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e][%t][%l] %v");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)kInitialised;
  std::string_view name = level == "warn" ? "warning" : level;
  auto parsed = spdlog::level::from_str(std::string(name == "warning" ? "warn" : name));
  if (parsed == spdlog::level::off && name != "off") {
    return invalidArgumentError("unknown log level \"" + std::string(level) +
                                "\" (expected trace, debug, info, warning, error, critical, off)");
  }
  spdlog::set_level(parsed);
  return Status::okStatus();
}

}  // namespace remora
