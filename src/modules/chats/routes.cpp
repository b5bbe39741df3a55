#include "routes.hpp"

#include <limits>
#include <memory>

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "service.hpp"

namespace reelhub::chats {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxTitle = 100;
constexpr std::size_t kMaxClientMsgId = 64;

/// The chats endpoints, sharing one service.
class Handlers {
 public:
  explicit Handlers(ChatService& service) : service_(service) {}

  Response list(Request& req);
  Response create(Request& req);
  Response messages(Request& req);
  Response send(Request& req);
  Response read(Request& req);
  Response typing(Request& req);
  Response invite(Request& req);
  Response invites(Request& req);
  Response accept(Request& req);
  Response decline(Request& req);
  Response leave(Request& req);

 private:
  ChatService& service_;
};

}  // namespace

void register_routes(const modules::Context& ctx, ChatService& service) {
  ctx.hub.register_topic("chat", [&service](const auth::AuthUser& user, const std::string& id) {
    return service.may_subscribe(user, id);
  });
  auto bind = http::bind_members(std::make_shared<Handlers>(service));
  const http::RouteOptions user{.access = http::Access::user};

  http::Router& r = ctx.router;
  r.add("GET", "/chats", bind(&Handlers::list), user);
  r.add("POST", "/chats/create", bind(&Handlers::create), user);
  r.add("GET", "/chats/{id}/messages", bind(&Handlers::messages), user);
  r.add("POST", "/chats/{id}/send", bind(&Handlers::send), user);
  r.add("POST", "/chats/{id}/read", bind(&Handlers::read), user);
  r.add("POST", "/chats/{id}/typing", bind(&Handlers::typing), user);
  r.add("GET", "/chats/invites", bind(&Handlers::invites), user);
  r.add("POST", "/chats/{id}/invite", bind(&Handlers::invite), user);
  r.add("POST", "/chats/{id}/accept", bind(&Handlers::accept), user);
  r.add("POST", "/chats/{id}/decline", bind(&Handlers::decline), user);
  r.add("POST", "/chats/{id}/leave", bind(&Handlers::leave), user);
}

namespace {

/// `member_ids`: an array of positive integer user ids.
std::vector<std::int64_t> member_ids_of(const nlohmann::json& body, Validator& v) {
  std::vector<std::int64_t> ids;
  const auto it = body.find("member_ids");
  if (it == body.end() || it->is_null()) {
    v.fail("member_ids", "is required");
  } else if (!it->is_array() || it->size() > ChatService::kMaxGroupMembers) {
    v.fail("member_ids", "must be an array of at most " + std::to_string(ChatService::kMaxGroupMembers) + " user ids");
  } else {
    for (const auto& id : *it) {
      if (!id.is_number_integer() || id.get<std::int64_t>() <= 0) {
        v.fail("member_ids", "must contain only positive integer user ids");
        return {};
      }
      ids.push_back(id.get<std::int64_t>());
    }
  }
  return ids;
}

Response Handlers::list(Request& req) {
  const auto limit = http::query_int(req, "limit", 50, 1, 100);
  return Response::json(200, chat_page_json(service_.list(req.auth(), req.query_param("cursor"), limit)));
}

Response Handlers::create(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  NewChat chat;
  const std::string type = v.required_string("type", 1, 16);
  if (const auto parsed = parse_chat_type(type)) chat.type = *parsed;
  else if (!type.empty()) v.fail("type", "must be direct or group");
  chat.member_ids = member_ids_of(body, v);
  chat.title = v.optional_string("title", 1, kMaxTitle);
  v.throw_if_failed();
  const Opened opened = service_.create(req.auth(), chat);
  return Response::json(opened.created ? 201 : 200, chat_json(opened.chat));
}

Response Handlers::messages(Request& req) {
  const HistoryRequest history{.before = req.query_param("before"),
                               .after = req.query_param("after"),
                               .limit = http::query_int(req, "limit", 50, 1, 100)};
  return Response::json(200, message_page_json(service_.history(req.auth(), req.param("id"), history)));
}

Response Handlers::send(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  // Length, blankness and characters are the service's rules; here only the type.
  const std::string text = v.required_string("text", 0, std::numeric_limits<std::size_t>::max());
  const auto client_msg_id = v.optional_string("client_msg_id", 1, kMaxClientMsgId);
  v.throw_if_failed();
  const Sent sent = service_.send(req.auth(), req.param("id"), text, client_msg_id);
  return Response::json(sent.created ? 201 : 200, message_json(sent.message));
}

Response Handlers::read(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  const std::string message_id = v.required_string("message_id", 1, 64);
  v.throw_if_failed();
  return Response::json(200, read_receipt_json(service_.mark_read(req.auth(), req.param("id"), message_id)));
}

Response Handlers::typing(Request& req) {
  service_.typing(req.auth(), req.param("id"));
  return Response::no_content();
}

Response Handlers::invite(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  const std::int64_t user_id = v.required_id("user_id");
  v.throw_if_failed();
  const Invited invited = service_.invite(req.auth(), req.param("id"), user_id);
  return Response::json(invited.created ? 201 : 200, invited_json(invited.chat_id, invited.user_id));
}

Response Handlers::invites(Request& req) { return Response::json(200, invite_list_json(service_.invites(req.auth()))); }

Response Handlers::accept(Request& req) {
  return Response::json(200, chat_json(service_.accept(req.auth(), req.param("id"))));
}

Response Handlers::decline(Request& req) {
  service_.decline(req.auth(), req.param("id"));
  return Response::no_content();
}

Response Handlers::leave(Request& req) {
  service_.leave(req.auth(), req.param("id"));
  return Response::no_content();
}

}  // namespace
}  // namespace reelhub::chats
