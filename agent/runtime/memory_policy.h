// How the agent keeps its resident memory small on nodes with hundreds of pods (glibc malloc specifics).
//
// glibc gives each thread that allocates its own arena and keeps freed memory in it. The agent's allocating work
// is on the event loop, plus a pod-fetch worker and the API threads that each parse or render a few MB now and then:
// with one arena per thread, memory freed in one arena is never reused by another (measured: 3 MB of a 26 MB
// heap at 500 pods). Two arenas are enough for a loop that owns nearly all allocations.
#pragma once

namespace slo::agent {

// Caps malloc arenas (mallopt M_ARENA_MAX = 2). Call once, before threads start; `sloagent run` does.
void limit_malloc_arenas();

// Returns free heap pages to the kernel (malloc_trim). Called after the large transient allocations of a pod-set
// change or a reload have been freed, so their peak does not stay resident.
void release_free_memory();

}  // namespace slo::agent
