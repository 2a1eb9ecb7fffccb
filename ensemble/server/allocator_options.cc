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
//
// thp:always: the heap in transparent huge pages (the kernel's setting here is "madvise", so
// jemalloc asks for them). Building a 1,000,000-znode tree touches 400 MB of fresh memory; in
// 4 KiB pages the page faults were a fifth of a recovery's CPU. Three recoveries at once:
// 11.8 s -> 8.2 s, 7.2 -> 4.9 CPU-s each; an idle server's RSS 15 -> 24 MiB (bench/RESULTS.md).
// The leader's forked SNAP image shares these pages: since Linux 5.8 a write to a shared huge
// page copies 4 KiB of it, not 2 MiB (measured on 6.18: streamed_snap_test's reads unharmed).

extern "C" {
/// jemalloc's start-up options (see jemalloc(3), "malloc_conf").
const char* malloc_conf = "background_thread:true,thp:always";
}
