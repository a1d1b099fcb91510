// Logging: one process-wide logger on stderr (spdlog underneath), with Envoy's
// level names so `-l debug` means what an Envoy user expects.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace remora {

// Levels: trace, debug, info, warning (or warn), error, critical, off.
Status setLogLevel(std::string_view level);

}  // namespace remora

#define REMORA_LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define REMORA_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define REMORA_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define REMORA_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define REMORA_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
