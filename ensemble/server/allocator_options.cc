// jemalloc's options for corral-server, read by jemalloc when the process starts (its
// `malloc_conf` symbol; MALLOC_CONF in the environment still adds to them).
//
// background_thread: freed memory is returned to the kernel (madvise) by jemalloc's own
// threads, not inside whichever malloc or free on the event loop crosses the decay deadline.
// Inline, one such purge held a leader's event loop for 146 ms while a follower synced by a
// SNAP (the TLB shootdowns of a large madvise are slow on a VM): streamed_snap_test's longest
// read on the leader was 95-167 ms without it, 43-90 ms with it (bench/RESULTS.md). A fork
// (the leader's SNAP image) still waits for a purge in progress: jemalloc holds each
// background thread's lock across fork.

extern "C" {
/// jemalloc's start-up options (see jemalloc(3), "malloc_conf").
const char* malloc_conf = "background_thread:true";
}
