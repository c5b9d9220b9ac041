// Heap allocation counting for the benchmarks: every operator new of this program and every
// allocation OpenSSL makes through CRYPTO_malloc / CRYPTO_realloc.
#ifndef SECURECHAT_BENCH_ALLOC_COUNTER_H_
#define SECURECHAT_BENCH_ALLOC_COUNTER_H_

#include <cstdint>

namespace securechat::bench {

// InstallAllocCounters routes OpenSSL's allocations through counting functions. Call it first
// in main, before anything uses OpenSSL; aborts if OpenSSL has already allocated (it then
// refuses new memory functions and its allocations would go uncounted).
void InstallAllocCounters();

// AllocationCount is the number of allocations so far: operator new (all forms) plus
// OpenSSL's mallocs and reallocs.
uint64_t AllocationCount();

}  // namespace securechat::bench

#endif  // SECURECHAT_BENCH_ALLOC_COUNTER_H_
