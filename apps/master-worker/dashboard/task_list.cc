#include "apps/master-worker/dashboard/task_list.h"

#include <algorithm>

namespace corral::mw {

TaskPage list_tasks(const View& view, History& history, const Paging& paging) {
  const std::string& state = paging.state;
  // Live tasks, highest id first (ids are fixed-width, so text order is number order).
  std::vector<const TaskView*> live;
  for (auto it = view.tasks.rbegin(); it != view.tasks.rend(); ++it) {
    const TaskView& t = it->second;
    if (!state.empty() && t.state != state) continue;
    if (is_finished_state(t.state) && history.contains(t.id)) continue;
    live.push_back(&t);
  }
  const bool archived_too = state.empty() || is_finished_state(state);
  const auto n_live = static_cast<int64_t>(live.size());
  TaskPage page;
  page.total = n_live + (archived_too ? history.count(state) : 0);
  const int64_t first = paging.offset, last = paging.offset + paging.limit;  // [first, last)

  // Merged position of an item = its rank in its own list + the items of the other list
  // with a higher id. A history row at rank j lands in [j, j + n_live], so only ranks in
  // [first - n_live, last) can be on the page.
  std::vector<std::pair<int64_t, TaskView>> on_page;
  for (int64_t i = 0; i < n_live && i < last; ++i) {
    int64_t pos = i + (archived_too ? history.count_newer(live[i]->id, state) : 0);
    if (pos >= first && pos < last) on_page.emplace_back(pos, *live[i]);
  }
  if (archived_too) {
    int64_t h_first = std::max<int64_t>(0, first - n_live);
    auto rows = history.list(state, last - h_first, h_first);
    for (size_t k = 0; k < rows.size(); ++k) {
      // Live items with a higher id: `live` is sorted descending.
      auto higher = std::partition_point(live.begin(), live.end(),
                                         [&](const TaskView* t) { return t->id > rows[k].id; });
      int64_t pos = h_first + static_cast<int64_t>(k) + (higher - live.begin());
      if (pos >= first && pos < last) on_page.emplace_back(pos, std::move(rows[k]));
    }
  }
  std::sort(on_page.begin(), on_page.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [pos, t] : on_page) page.tasks.push_back(std::move(t));
  return page;
}

}  // namespace corral::mw
