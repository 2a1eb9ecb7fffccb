// Client::create_protected: Curator's protected mode for creates that must not
// happen twice (sequential and ephemeral nodes).
#include <memory>
#include <random>

#include "client_impl.h"
#include "corral/client/client.h"

namespace corral::client {

namespace {

// How many times a create is tried again after a connection loss found nothing.
constexpr int kMaxAttempts = 10;

std::string unique_prefix() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 gen(rd());
  uint64_t v = gen();
  std::string out = "_c_";
  for (int i = 0; i < 16; ++i) out += kHex[(v >> (i * 4)) & 0xf];
  return out + "-";
}

}  // namespace

void Client::create_protected_impl(std::string path, std::string data, CreateOptions options,
                                   Done<CreateResult> done) {
  auto slash = path.rfind('/');
  if (path.empty() || path.front() != '/' || slash + 1 >= path.size())
    return done(ErrorCode::kBadArguments);
  std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  std::string prefix = unique_prefix();
  std::string named = path.substr(0, slash + 1) + prefix + path.substr(slash + 1);

  // One attempt: create; after a connection loss, look for the node among the parent's
  // children (the requests wait until a session is up again) before creating again. The
  // look starts with a sync: a create still in flight commits before it (or never), and
  // the server answering the listing has applied everything committed by then.
  auto attempt = std::make_shared<std::function<void(int)>>();
  auto search = std::make_shared<std::function<void(int)>>();
  auto finish = [attempt, search, done](auto result) {
    *attempt = nullptr;  // break the cycles
    *search = nullptr;
    done(std::move(result));
  };
  *search = [this, attempt, search, finish, parent, prefix](int tries) {
    sync_impl(parent, [=, this](Result<void> synced) {
      if (!synced) {
        if (synced.error() == ErrorCode::kConnectionLoss && tries < kMaxAttempts)
          return (*search)(tries + 1);
        return finish(Result<CreateResult>(synced.error()));
      }
      children_impl(parent, nullptr, [=, this](Result<ChildrenResult> listed) {
        if (!listed) {
          if (listed.error() == ErrorCode::kConnectionLoss && tries < kMaxAttempts)
            return (*search)(tries + 1);
          return finish(Result<CreateResult>(listed.error()));
        }
        for (const auto& child : listed->children) {
          if (child.compare(0, prefix.size(), prefix) != 0) continue;
          std::string found = (parent == "/" ? "" : parent) + "/" + child;
          return exists_impl(found, nullptr, [=](Result<Stat> stat) {
            if (!stat) return finish(Result<CreateResult>(stat.error()));
            finish(Result<CreateResult>(CreateResult{found, *stat}));
          });
        }
        (*attempt)(tries + 1);  // not there: it never happened
      });
    });
  };
  *attempt = [this, search, finish, named, data, options](int tries) {
    create_impl(named, data, options, [=](Result<CreateResult> created) {
      if (created.error() != ErrorCode::kConnectionLoss || tries >= kMaxAttempts)
        return finish(std::move(created));
      (*search)(tries);
    });
  };
  (*attempt)(1);
}

}  // namespace corral::client
