// A small HTTP/1.1 server for the admin interface (Envoy's admin.address):
// one request per connection, answered and closed. It runs on the main
// thread's dispatcher and is never on the data path, so it favours
// simplicity over speed.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "event/dispatcher.h"
#include "network/socket.h"

namespace remora::proxy {

struct AdminRequest {
  std::string method;
  std::string path;                          // without the query
  std::map<std::string, std::string> query;  // decoded ?a=b&c
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  // Binds `address` (main thread).
  static StatusOr<std::unique_ptr<AdminServer>> create(event::Dispatcher& dispatcher,
                                                       const network::SocketAddress& address);
  ~AdminServer();

  // `path` is matched exactly; `help` is listed on "/" and "/help".
  void addHandler(const std::string& path, const std::string& help, Handler handler,
                  bool mutates = false);
  network::SocketAddress address() const { return address_; }

 private:
  class Connection;
  struct Entry {
    std::string help;
    Handler handler;
    bool mutates;  // needs POST, as Envoy requires for state-changing calls
  };
  AdminServer(event::Dispatcher& dispatcher, network::Fd fd, network::SocketAddress address);
  void onAccept();
  AdminResponse handle(const AdminRequest& request);
  void remove(Connection* c);

  event::Dispatcher& dispatcher_;
  network::Fd fd_;
  network::SocketAddress address_;
  std::unique_ptr<event::FileEvent> event_;
  std::map<std::string, Entry> handlers_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace remora::proxy
