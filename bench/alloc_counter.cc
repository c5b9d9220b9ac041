#include "alloc_counter.h"

#include <openssl/crypto.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace securechat::bench {
namespace {

std::atomic<uint64_t> g_allocations{0};

void Count() { g_allocations.fetch_add(1, std::memory_order_relaxed); }

void* CountedMalloc(size_t n) {
  Count();
  // malloc(0) may return nullptr, which operator new must not.
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  return p;
}

void* CountedAlignedMalloc(size_t n, std::align_val_t align) {
  Count();
  const auto a = static_cast<size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  void* p = std::aligned_alloc(a, (n + a - 1) / a * a);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  return p;
}

void* OpenSslMalloc(size_t n, const char*, int) {
  Count();
  return std::malloc(n);
}

void* OpenSslRealloc(void* p, size_t n, const char*, int) {
  Count();
  return std::realloc(p, n);
}

void OpenSslFree(void* p, const char*, int) { std::free(p); }

}  // namespace

void InstallAllocCounters() {
  if (CRYPTO_set_mem_functions(OpenSslMalloc, OpenSslRealloc, OpenSslFree) != 1) {
    std::fprintf(stderr, "alloc counter: OpenSSL allocated before InstallAllocCounters\n");
    std::abort();
  }
}

uint64_t AllocationCount() { return g_allocations.load(std::memory_order_relaxed); }

}  // namespace securechat::bench

// Replacements of the global allocation functions: each counts, then uses malloc.
void* operator new(size_t n) { return securechat::bench::CountedMalloc(n); }
void* operator new[](size_t n) { return securechat::bench::CountedMalloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return securechat::bench::CountedMalloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return securechat::bench::CountedMalloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(size_t n, std::align_val_t a) {
  return securechat::bench::CountedAlignedMalloc(n, a);
}
void* operator new[](size_t n, std::align_val_t a) {
  return securechat::bench::CountedAlignedMalloc(n, a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
