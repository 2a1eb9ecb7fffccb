#include "tests/nemesis/session.h"

#include <asio/use_future.hpp>

namespace corral::nemesis {

namespace {

client::Options options_for(const std::string& connect_string, std::chrono::milliseconds t) {
  client::Options o;
  o.connect_string = connect_string;
  o.session_timeout = t;
  return o;
}

}  // namespace

bool indefinite(ErrorCode e) {
  return e == ErrorCode::kConnectionLoss || e == ErrorCode::kOperationTimeout ||
         e == ErrorCode::kSessionExpired || e == ErrorCode::kRequestTimeout ||
         e == ErrorCode::kClosing || e == ErrorCode::kSessionMoved;
}

Session::Session(const std::string& connect_string, std::chrono::milliseconds session_timeout,
                 std::chrono::milliseconds connect_deadline)
    : client_(options_for(connect_string, session_timeout)) {
  connected_ = client_.wait_connected(connect_deadline);
  broken_ = !connected_;
}

template <typename T>
std::optional<T> Session::wait(std::future<T> f) {
  if (f.wait_for(kCallDeadline) != std::future_status::ready) {
    broken_ = true;
    return std::nullopt;
  }
  T r = f.get();
  if (r.error() == ErrorCode::kSessionExpired || r.error() == ErrorCode::kClosing) broken_ = true;
  return r;
}

std::optional<Result<client::DataResult>> Session::get(const std::string& path) {
  return wait(client_.async().get(path, nullptr, asio::use_future));
}

std::optional<Result<client::Stat>> Session::exists(const std::string& path) {
  return wait(client_.async().exists(path, nullptr, asio::use_future));
}

std::optional<Result<client::Stat>> Session::set(const std::string& path, const std::string& data,
                                                 int32_t version) {
  return wait(client_.async().set(path, data, version, asio::use_future));
}

std::optional<Result<client::CreateResult>> Session::create(const std::string& path,
                                                            const std::string& data,
                                                            client::CreateMode mode) {
  return wait(client_.async().create(path, data, client::CreateOptions{mode}, asio::use_future));
}

std::optional<Result<void>> Session::sync(const std::string& path) {
  return wait(client_.async().sync(path, asio::use_future));
}

std::optional<Result<client::ChildrenResult>> Session::children(const std::string& path) {
  return wait(client_.async().children(path, nullptr, asio::use_future));
}

}  // namespace corral::nemesis
