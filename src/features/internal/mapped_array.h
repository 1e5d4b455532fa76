#pragma once
// MappedArray<T>: a growable array of a trivially copyable T in an anonymous
// memory mapping of its own, for the large per-key state arrays and window
// pools that grow with the number of keys and events. Growing moves the
// pages (mremap) instead of copying the contents into a new block, so an
// array that grows to n bytes costs n bytes of page faults and no copies
// (std::vector copies everything on each growth, and touches twice the
// memory). Pages are the system's normal ones (mapped_array.cc says why no
// huge pages), made present a few at a time as the array grows (resize).
//
// Elements beyond the old size are zero after resize(). Arrays under 256 KiB
// live on the heap (realloc), and so do all of them elsewhere than on Linux.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace sluice::features::internal {

// The untyped primitives (mapped_array.cc); `bytes` are multiples of 4096.
// Throw std::bad_alloc when memory is exhausted, as std::vector does.
void* MapZeroed(size_t bytes);
// REQUIRES: `p` from MapZeroed/RemapZeroed with `old_bytes` < `new_bytes`.
// The bytes past `old_bytes` are zero.
void* RemapZeroed(void* p, size_t old_bytes, size_t new_bytes);
void Unmap(void* p, size_t bytes);
// Gives the pages wholly inside bytes [begin, end) of `p` (from MapZeroed
// with `bytes`) back to the system; they read as zero afterwards. Does
// nothing for blocks on the heap. For a block being retired piece by piece,
// so that its last Unmap has little left to free.
void ReleasePages(void* p, size_t bytes, size_t begin, size_t end);
// Makes the pages of bytes [begin, end) of `p` (from MapZeroed with
// `bytes`) present and writable in one call, instead of one page fault at
// each page's first write. Does nothing for blocks on the heap, or where
// the system cannot (the pages then fault in as they are written).
void PopulatePages(void* p, size_t bytes, size_t begin, size_t end);

template <typename T>
class MappedArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  MappedArray() = default;
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  MappedArray(MappedArray&& o) noexcept { *this = std::move(o); }
  MappedArray& operator=(MappedArray&& o) noexcept {
    if (this != &o) {
      Release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
      mapped_ = std::exchange(o.mapped_, 0);
      written_ = std::exchange(o.written_, 0);
      populated_ = std::exchange(o.populated_, 0);
    }
    return *this;
  }
  ~MappedArray() { Release(); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Elements reserved (what memory statistics count).
  size_t capacity() const { return capacity_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

  void reserve(size_t n) {
    if (n <= capacity_) return;
    const size_t bytes = n * sizeof(T);
    if (bytes > mapped_) {
      const size_t rounded = (bytes + kPage - 1) / kPage * kPage;
      data_ = static_cast<T*>(data_ == nullptr ? MapZeroed(rounded)
                                               : RemapZeroed(data_, mapped_, rounded));
      mapped_ = rounded;
    }
    capacity_ = n;
  }
  // New elements are zero.
  void resize(size_t n) {
    reserve(n);
    if (n > size_ && size_ < written_) {
      // Elements once written and then cut off are stale: zero them.
      const size_t stale_end = n < written_ ? n : written_;
      std::memset(static_cast<void*>(data_ + size_), 0, (stale_end - size_) * sizeof(T));
    }
    size_ = n;
    if (size_ > written_) written_ = size_;
    if (size_ * sizeof(T) > populated_) {
      // The pages of the new elements, and up to kPopulateAhead bytes past
      // them, made present in one call rather than a page fault each (a
      // fault cost about 2 us on the machine measured, the call about 1.5 us
      // a page: bench/README.md).
      const size_t end = size_ * sizeof(T) + kPopulateAhead;
      const size_t until = (end < mapped_ ? end : mapped_) / kPage * kPage;
      if (until > populated_) {
        PopulatePages(data_, mapped_, populated_, until);
        populated_ = until;
      }
    }
  }
  // Empties the array and gives its memory back.
  void clear() { Release(); }
  // The contents of `values[0, n)`.
  void assign(const T* values, size_t n) {
    Release();
    resize(n);
    if (n != 0) std::memcpy(static_cast<void*>(data_), values, n * sizeof(T));
  }

 private:
  static constexpr size_t kPage = 4096;
  static constexpr size_t kPopulateAhead = size_t{64} << 10;
  void Release() {
    if (data_ != nullptr) Unmap(data_, mapped_);
    data_ = nullptr;
    size_ = capacity_ = mapped_ = written_ = populated_ = 0;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t mapped_ = 0;     // bytes
  size_t written_ = 0;    // elements beyond this one have never been used: zero
  size_t populated_ = 0;  // bytes [0, populated_) were made present (PopulatePages)
};

}  // namespace sluice::features::internal
