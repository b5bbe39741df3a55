#include "model.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace reelhub::notifications {
namespace {

constexpr std::array<std::pair<Type, const char*>, 6> kTypes{{
    {Type::direct_message, "direct_message"},
    {Type::new_subscriber, "new_subscriber"},
    {Type::room_invite, "room_invite"},
    {Type::stream_live, "stream_live"},
    {Type::donation, "donation"},
    {Type::chat_invite, "chat_invite"},
}};

constexpr std::array<std::pair<Platform, const char*>, 3> kPlatforms{{
    {Platform::ios, "ios"},
    {Platform::android, "android"},
    {Platform::web, "web"},
}};

template <class Enum, std::size_t N>
const char* name_of(const std::array<std::pair<Enum, const char*>, N>& table, Enum value) {
  return std::find_if(table.begin(), table.end(), [&](const auto& entry) { return entry.first == value; })->second;
}

template <class Enum, std::size_t N>
std::optional<Enum> parse(const std::array<std::pair<Enum, const char*>, N>& table, std::string_view name) {
  const auto it = std::find_if(table.begin(), table.end(), [&](const auto& entry) { return name == entry.second; });
  if (it == table.end()) return std::nullopt;
  return it->first;
}

}  // namespace

const std::vector<Type>& all_types() {
  static const std::vector<Type> types = [] {
    std::vector<Type> out;
    for (const auto& [type, _] : kTypes) out.push_back(type);
    return out;
  }();
  return types;
}

const char* type_name(Type type) { return name_of(kTypes, type); }
std::optional<Type> parse_type(std::string_view name) { return parse(kTypes, name); }
const char* platform_name(Platform platform) { return name_of(kPlatforms, platform); }
std::optional<Platform> parse_platform(std::string_view name) { return parse(kPlatforms, name); }

}  // namespace reelhub::notifications
