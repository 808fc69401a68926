// A reusable array that is neither zero-filled nor freed between uses. The model workloads' host
// references widen or regenerate tensors of up to a few GB once per layer and step; a fresh
// std::vector each time spent more in zero-filling and first-touch page faults than in the FP64
// arithmetic (llm-1b on 2 cores: ~half of the accuracy pass). Grows to the largest request and keeps it.
#pragma once

#include <cstddef>
#include <memory>

namespace cmeter {

template <typename T>
class ScratchBuffer {
 public:
  // Room for `count` elements, their values unspecified (the caller writes before it reads). Earlier
  // pointers are invalid after a call that grows the buffer.
  T* get(size_t count) {
    if (count > capacity_) {
      data_.reset();  // free the old one first: the peak is the largest request, not two of them
      data_.reset(new T[count]);
      capacity_ = count;
    }
    return data_.get();
  }
  size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<T[]> data_;
  size_t capacity_ = 0;
};

}  // namespace cmeter
