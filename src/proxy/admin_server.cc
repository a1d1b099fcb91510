#include "proxy/admin_server.h"

#include <sys/socket.h>

#include <sstream>

#include "common/http_status.h"
#include "common/logging.h"

namespace remora::proxy {

namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(s[i + 1]) && isxdigit(s[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

class AdminServer::Connection : public event::DeferredDeletable {
 public:
  Connection(AdminServer& server, network::Fd fd) : server_(server), fd_(std::move(fd)) {
    event_ = server_.dispatcher_.createFileEvent(
        fd_.get(), [this](uint32_t ready) { onEvent(ready); }, event::kRead);
  }

 private:
  void onEvent(uint32_t ready) {
    if (!response_.empty()) return flush();
    char buf[4096];
    ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return server_.remove(this);
    request_.append(buf, static_cast<size_t>(n));
    if (request_.size() > kMaxRequestBytes) return respond({413, "text/plain", "too large\n"});
    size_t end = request_.find("\r\n\r\n");
    if (end == std::string::npos) return;
    AdminRequest req;
    std::istringstream line(request_.substr(0, request_.find("\r\n")));
    std::string target, version;
    line >> req.method >> target >> version;
    if (req.method.empty() || target.empty() || version.rfind("HTTP/1.", 0) != 0) {
      return respond({400, "text/plain", "bad request line\n"});
    }
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string_view qs(target);
      qs.remove_prefix(q + 1);
      while (!qs.empty()) {
        size_t amp = qs.find('&');
        std::string_view kv = qs.substr(0, amp);
        size_t eq = kv.find('=');
        req.query[percentDecode(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : percentDecode(kv.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        qs.remove_prefix(amp + 1);
      }
    }
    respond(server_.handle(req));
  }

  void respond(const AdminResponse& r) {
    response_ = "HTTP/1.1 " + std::to_string(r.status) + " " +
                std::string(httpReasonPhrase(r.status)) + "\r\ncontent-type: " + r.content_type +
                "\r\ncontent-length: " + std::to_string(r.body.size()) +
                "\r\ncache-control: no-cache, max-age=0\r\nx-content-type-options: nosniff"
                "\r\nconnection: close\r\n\r\n" +
                r.body;
    event_->setEnabled(event::kWrite);
    flush();
  }

  void flush() {
    while (sent_ < response_.size()) {
      ssize_t n = send(fd_.get(), response_.data() + sent_, response_.size() - sent_, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) break;
      sent_ += static_cast<size_t>(n);
    }
    server_.remove(this);
  }

  AdminServer& server_;
  network::Fd fd_;
  std::unique_ptr<event::FileEvent> event_;
  std::string request_;
  std::string response_;
  size_t sent_ = 0;
};

StatusOr<std::unique_ptr<AdminServer>> AdminServer::create(event::Dispatcher& dispatcher,
                                                           const network::SocketAddress& address) {
  network::ListenOptions opts;
  opts.reuse_port = false;
  opts.backlog = 128;
  auto fd = network::listenTcp(address, opts);
  if (!fd.ok()) return fd.status().withPrefix("admin.address");
  REMORA_ASSIGN_OR_RETURN(auto bound, network::localAddress(fd->get()));
  return std::unique_ptr<AdminServer>(new AdminServer(dispatcher, std::move(*fd), bound));
}

AdminServer::AdminServer(event::Dispatcher& dispatcher, network::Fd fd,
                         network::SocketAddress address)
    : dispatcher_(dispatcher), fd_(std::move(fd)), address_(address) {
  event_ = dispatcher_.createFileEvent(
      fd_.get(), [this](uint32_t) { onAccept(); }, event::kRead);
  addHandler("/help", "print this list", [this](const AdminRequest&) {
    AdminResponse r;
    r.body = "admin commands are:\n";
    for (const auto& [path, e] : handlers_) {
      r.body += "  " + path + (e.mutates ? " (POST)" : "") + ": " + e.help + "\n";
    }
    return r;
  });
}

AdminServer::~AdminServer() {
  event_.reset();
  connections_.clear();
}

void AdminServer::addHandler(const std::string& path, const std::string& help, Handler handler,
                             bool mutates) {
  handlers_[path] = Entry{help, std::move(handler), mutates};
}

void AdminServer::onAccept() {
  for (int i = 0; i < 16; ++i) {
    auto fd = network::acceptTcp(fd_.get(), nullptr);
    if (!fd.ok() || !fd->valid()) return;
    connections_.push_back(std::make_unique<Connection>(*this, std::move(*fd)));
  }
}

AdminResponse AdminServer::handle(const AdminRequest& request) {
  std::string path = request.path == "/" ? "/help" : request.path;
  auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    return {404, "text/plain", "unknown admin path " + request.path + "; see /help\n"};
  }
  if (it->second.mutates && request.method != "POST") {
    return {405, "text/plain", "this admin call changes state: use POST\n"};
  }
  return it->second.handler(request);
}

void AdminServer::remove(Connection* c) {
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() == c) {
      dispatcher_.deferredDelete(std::move(*it));
      connections_.erase(it);
      return;
    }
  }
}

}  // namespace remora::proxy
