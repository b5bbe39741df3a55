#pragma once
// What the files module stores: one uploaded file (seed 001), its bytes an object in the storage layer.

#include <cstdint>
#include <string>

namespace reelhub::files {

struct StoredFile {
  std::string name;  // generated, unique across users: YYYYMMDD_HHMMSS_<random>.<ext>
  std::int64_t user_id = 0;
  std::string original_name;
  std::int64_t size = 0;
  std::string content_type;
  std::string etag;         // MD5 of the content, hex
  std::string storage_key;  // the object's key
  std::string last_modified;  // ISO 8601 Z, whole seconds
  std::string upload_time;    // ISO 8601 Z with milliseconds
};

}  // namespace reelhub::files
