#include "ensemble/storage/incremental_snapshot.h"

namespace corral::storage {
namespace {

constexpr size_t kNotAligned = SIZE_MAX;

}  // namespace

void IncrementalSnapshot::changed(std::string_view path) {
  // Behind the walk, a change dirties the run that holds it in this snapshot; ahead of it, the
  // run of the last snapshot that the walk may yet reuse. Between walks, the last complete
  // snapshot's run.
  if (walking_ && (current_.empty() || preorder_less(current_.back().last_path, path)))
    last_.mark_changed(path);
  else
    current_.mark_changed(path);
}

void IncrementalSnapshot::begin() {
  // A walk that never completed holds runs of no stored snapshot.
  if (walking_) forget();
  last_ = std::move(current_);
  current_.clear();
  if (last_.empty() || ++since_full_walk_ >= kFullWalkEvery) {
    last_.clear();
    since_full_walk_ = 0;
  }
  walking_ = true;
  aligned_ = last_.empty() ? kNotAligned : 0;
  walk_.restart();
}

void IncrementalSnapshot::forget() {
  last_.clear();
  current_.clear();
  walking_ = false;
  aligned_ = kNotAligned;
}

std::vector<std::shared_ptr<SnapshotStep>> IncrementalSnapshot::next_job(const tree::DataTree& tree,
                                                                         size_t max_steps) {
  std::vector<std::shared_ptr<SnapshotStep>> job;
  while (job.size() < max_steps && !done()) {
    auto step = std::make_shared<SnapshotStep>(next(tree));
    if (step->node_count() == 0) break;
    job.push_back(std::move(step));
  }
  return job;
}

SnapshotStep IncrementalSnapshot::next(const tree::DataTree& tree) {
  SnapshotStep step;
  while (aligned_ < last_.size() && step.reused_ids.size() < kMaxReusedChunks) {
    const SnapshotRun& run = last_[aligned_];
    // A run whose storage job stored nothing (its snapshot dropped meanwhile) is walked.
    if (run.changed || !run.chunk_ids || run.chunk_ids->empty()) break;
    step.reused_ids.insert(step.reused_ids.end(), run.chunk_ids->begin(), run.chunk_ids->end());
    step.reused_nodes += static_cast<size_t>(run.node_count);
    step.reused_checksum += run.checksum;
    SnapshotRun again = run;
    again.changed = false;
    current_.add(std::move(again));
    ++aligned_;
  }
  if (step.reuses()) {
    walk_.seek_after(current_.back().last_path);
    return step;
  }
  step.walked_ids = std::make_shared<std::vector<int64_t>>();
  walk_.next_run(tree, step.walked);
  if (step.walked.node_count() == 0) return step;
  current_.add({walk_.last_path(), step.walked_ids, static_cast<int64_t>(step.walked.node_count()),
                step.walked.checksum(), false});
  // Where this run ends the last snapshot's did too, the walk stands where its next begins.
  const size_t ended = last_.ending_at(walk_.last_path());
  aligned_ = ended < last_.size() ? ended + 1 : kNotAligned;
  return step;
}

}  // namespace corral::storage
