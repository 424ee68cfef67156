#include "core/feature_map.h"

namespace bsnpu {

ByteMap::ByteMap(int images_, int height_, int width_, int real_channels_, int border_)
    : images(images_),
      height(height_),
      width(width_),
      channels((real_channels_ + 3) / 4 * 4),
      real_channels(real_channels_),
      border(border_) {
  data.assign(static_cast<size_t>(images * image_bytes()), 0);
}

void ByteMap::fill_border(const std::vector<int32_t>& pad_value) {
  for (int image = 0; image < images; ++image) {
    for (int y = -border; y < height + border; ++y) {
      for (int x = -border; x < width + border; ++x) {
        if (y >= 0 && y < height && x >= 0 && x < width) continue;
        uint8_t* pixel = at(image, y, x);
        for (int c = 0; c < real_channels; ++c)
          pixel[c] = static_cast<uint8_t>(pad_value[static_cast<size_t>(c)]);
      }
    }
  }
}

WordMap::WordMap(int images_, int height_, int width_, int channels_)
    : images(images_), height(height_), width(width_), channels(channels_) {
  data.assign(static_cast<size_t>(images * image_words()), 0);
}

}  // namespace bsnpu
