// Feature maps of a batch of images, in the layouts the fast kernels read and write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bsnpu {

// Unsigned activation codes of `images` images: per image NHWC, channels padded to a multiple of
// 4 (the extra channels hold 0), and a border of `border` pixels around each image that holds the
// padding value of the layers reading it. Images follow each other, borders included.
struct ByteMap {
  int images = 0, height = 0, width = 0, channels = 0, real_channels = 0, border = 0;
  std::vector<uint8_t> data;

  ByteMap() = default;
  ByteMap(int images, int height, int width, int real_channels, int border);
  int64_t pixel_bytes() const { return channels; }
  int64_t row_bytes() const { return int64_t{width + 2 * border} * channels; }
  int64_t image_bytes() const { return int64_t{height + 2 * border} * row_bytes(); }
  // Pixel (y, x) of image `image`; y and x may reach into the border.
  uint8_t* at(int image, int y, int x) {
    return data.data() + image * image_bytes() + (y + border) * row_bytes() + (x + border) * channels;
  }
  const uint8_t* at(int image, int y, int x) const {
    return data.data() + image * image_bytes() + (y + border) * row_bytes() + (x + border) * channels;
  }
  // Sets every border pixel of every image to pad_value (one entry per real channel).
  void fill_border(const std::vector<int32_t>& pad_value);
};

// Signed 32-bit values of `images` images: per image NHWC, no border, real channels only.
struct WordMap {
  int images = 0, height = 0, width = 0, channels = 0;
  std::vector<int32_t> data;

  WordMap() = default;
  WordMap(int images, int height, int width, int channels);
  int64_t image_words() const { return int64_t{height} * width * channels; }
  int32_t* at(int image, int y, int x) {
    return data.data() + image * image_words() + (int64_t{y} * width + x) * channels;
  }
  const int32_t* at(int image, int y, int x) const {
    return data.data() + image * image_words() + (int64_t{y} * width + x) * channels;
  }
};

}  // namespace bsnpu
