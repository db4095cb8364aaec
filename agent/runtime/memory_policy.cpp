#include "agent/runtime/memory_policy.h"

#include <malloc.h>

namespace slo::agent {

void limit_malloc_arenas() {
#ifdef M_ARENA_MAX
  mallopt(M_ARENA_MAX, 2);
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace slo::agent
