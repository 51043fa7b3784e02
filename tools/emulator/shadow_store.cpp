#include "shadow_store.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "durable_file.hpp"

namespace thingwell::emulator {

namespace fs = std::filesystem;

std::error_code shadow_store::open() {
  std::error_code ec;
  fs::create_directories(directory_, ec);
  return ec;
}

std::string shadow_store::file_for(const shadow_key& key) const {
  std::string name = key.thing;
  if (key.named()) name += ".name." + key.shadow;
  return (fs::path(directory_) / (name + ".json")).string();
}

std::error_code shadow_store::save(const shadow_key& key, const shadow_document& document) const {
  return replace_file_durably(file_for(key), to_json(document.to_record(key)) + "\n");
}

shadow_store::loaded shadow_store::load() const {
  loaded out;
  std::error_code ec;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    // A leftover .tmp is a save that did not reach its rename: the previous file is the truth.
    if (path.extension() != ".json") continue;
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto record = parse_json(text, 16 * 1024 * 1024);
    shadow_key key;
    shadow_document document;
    if (!record) {
      out.skipped.push_back(path.string() + ": " + record.error().message());
    } else if (!shadow_document::from_record(*record, key, document)) {
      out.skipped.push_back(path.string() + ": not a shadow record");
    } else {
      out.shadows.emplace_back(std::move(key), std::move(document));
    }
  }
  if (ec) out.skipped.push_back(directory_ + ": " + ec.message());
  return out;
}

}  // namespace thingwell::emulator
