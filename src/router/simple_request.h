// A request held as plain strings: what remoractl explain builds from its
// command line and what tests route. Not for the proxy's request path, which
// adapts its own header map to RequestView.
#pragma once

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "router/request_view.h"

namespace remora::router {

class SimpleRequest : public RequestView, public HeaderMutator {
 public:
  SimpleRequest() = default;
  SimpleRequest(std::string authority, std::string path, std::string method = "GET",
                std::string scheme = "http")
      : method_(std::move(method)),
        path_(std::move(path)),
        authority_(std::move(authority)),
        scheme_(std::move(scheme)) {}

  // Adds a header entry; the name is lowercased.
  SimpleRequest& header(std::string_view name, std::string_view value);

  std::string_view method() const override { return method_; }
  std::string_view path() const override { return path_; }
  std::string_view authority() const override { return authority_; }
  std::string_view scheme() const override { return scheme_; }
  void headerValues(std::string_view lowercase_name, HeaderValues& out) const override;

  bool has(std::string_view name) const override;
  void append(std::string_view name, std::string_view value) override;
  void set(std::string_view name, std::string_view value) override;
  void remove(std::string_view name) override;

  // Every entry in order, for printing and tests.
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  // The values of `name` joined with ",", or "" when absent.
  std::string get(std::string_view name) const;

 private:
  std::string method_ = "GET";
  std::string path_ = "/";
  std::string authority_;
  std::string scheme_ = "http";
  std::vector<std::pair<std::string, std::string>> headers_;
};

// A seeded Mersenne Twister: same seed, same weighted picks.
class SeededRandom : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t next() override { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace remora::router
