#include "participants.h"

#include "corral/recipes/node_names.h"

namespace corral::recipes::detail {

awaitable<Result<std::vector<Participant>>> read_participants(Client& client, std::string dir,
                                                              std::vector<std::string> markers) {
  auto listed = co_await retrying([&] { return client.children(dir, nullptr, use_awaitable); });
  if (listed.error() == ErrorCode::kNoNode) co_return std::vector<Participant>{};
  if (!listed) co_return listed.error();
  std::vector<Participant> out;
  for (const auto& name : ordered_by_sequence(listed->children, markers)) {
    auto node = join_path(dir, name);
    auto data = co_await retrying([&] { return client.get(node, nullptr, use_awaitable); });
    if (data.error() == ErrorCode::kNoNode) continue;
    if (!data) co_return data.error();
    out.push_back(Participant{data->data, name, out.empty()});
  }
  co_return out;
}

}  // namespace corral::recipes::detail
