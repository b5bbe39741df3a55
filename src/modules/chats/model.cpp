#include "model.hpp"

namespace reelhub::chats {

const char* chat_type_name(ChatType type) { return type == ChatType::direct ? "direct" : "group"; }

std::optional<ChatType> parse_chat_type(std::string_view name) {
  if (name == "direct") return ChatType::direct;
  if (name == "group") return ChatType::group;
  return std::nullopt;
}

}  // namespace reelhub::chats
