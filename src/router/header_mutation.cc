#include "router/header_mutation.h"

#include "router/ascii.h"

namespace remora::router {

namespace {

using envoy::config::core::v3::HeaderValueOption;

Status checkName(const std::string& name, HeaderMutations::Side side, const std::string& field) {
  if (name.empty()) return invalidArgumentError(field + ": header name must not be empty");
  if (name[0] == ':') {
    return invalidArgumentError(field + ": pseudo-header \"" + name + "\" may not be modified");
  }
  if (side == HeaderMutations::Side::kRequest && equalsIgnoreCase(name, "host")) {
    return invalidArgumentError(field +
                                ": \"host\" may not be modified here (use host_rewrite_literal)");
  }
  return Status();
}

// Envoy evaluates %COMMAND% formatters in header values. We do not yet, and a
// value carrying one would be sent literally and silently wrong, so it is
// refused; "%%" is the escape for a literal '%'.
StatusOr<std::string> literalValue(const std::string& value, const std::string& field) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
    } else if (i + 1 < value.size() && value[i + 1] == '%') {
      out += '%';
      ++i;
    } else {
      return invalidArgumentError(
          field + ": header value formatters (%...%) are not supported: \"" + value + "\"");
    }
  }
  return out;
}

}  // namespace

const char* appendActionName(AppendAction action) {
  switch (action) {
    case AppendAction::kAppendIfExistsOrAdd:
      return "APPEND_IF_EXISTS_OR_ADD";
    case AppendAction::kAddIfAbsent:
      return "ADD_IF_ABSENT";
    case AppendAction::kOverwriteIfExistsOrAdd:
      return "OVERWRITE_IF_EXISTS_OR_ADD";
    case AppendAction::kOverwriteIfExists:
      return "OVERWRITE_IF_EXISTS";
  }
  return "?";
}

StatusOr<HeaderMutations> HeaderMutations::compile(
    const google::protobuf::RepeatedPtrField<HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove, Side side,
    const std::string& field_prefix) {
  const char* side_name = side == Side::kRequest ? "request" : "response";
  HeaderMutations m;
  for (int i = 0; i < add.size(); ++i) {
    const HeaderValueOption& opt = add[i];
    const std::string field =
        field_prefix + side_name + "_headers_to_add[" + std::to_string(i) + "]";
    REMORA_RETURN_IF_ERROR(checkName(opt.header().key(), side, field + ".header.key"));
    if (!opt.header().value().empty() && !opt.header().raw_value().empty()) {
      return invalidArgumentError(field + ".header: only one of value and raw_value may be set");
    }
    const std::string& raw =
        opt.header().value().empty() ? opt.header().raw_value() : opt.header().value();
    HeaderToAdd h;
    h.name = toLowerAscii(opt.header().key());
    REMORA_ASSIGN_OR_RETURN(h.value, literalValue(raw, field + ".header.value"));
    if (!HeaderValueOption::HeaderAppendAction_IsValid(opt.append_action())) {
      return invalidArgumentError(field + ".append_action: unknown value " +
                                  std::to_string(opt.append_action()));
    }
    h.action = static_cast<AppendAction>(opt.append_action());
    if (opt.has_append()) {
      if (opt.append_action() != HeaderValueOption::APPEND_IF_EXISTS_OR_ADD) {
        return invalidArgumentError(field + ": append and append_action are both set");
      }
      h.action = opt.append().value() ? AppendAction::kAppendIfExistsOrAdd
                                      : AppendAction::kOverwriteIfExistsOrAdd;
    }
    // Envoy drops headers whose value comes out empty unless told otherwise.
    if (h.value.empty() && !opt.keep_empty_value()) continue;
    m.add.push_back(std::move(h));
  }
  for (int i = 0; i < remove.size(); ++i) {
    const std::string field =
        field_prefix + side_name + "_headers_to_remove[" + std::to_string(i) + "]";
    REMORA_RETURN_IF_ERROR(checkName(remove[i], side, field));
    m.remove.push_back(toLowerAscii(remove[i]));
  }
  return m;
}

void HeaderMutations::apply(HeaderMutator& headers) const {
  for (const std::string& name : remove)
    headers.remove(name);
  for (const HeaderToAdd& h : add) {
    switch (h.action) {
      case AppendAction::kAppendIfExistsOrAdd:
        headers.append(h.name, h.value);
        break;
      case AppendAction::kAddIfAbsent:
        if (!headers.has(h.name)) headers.append(h.name, h.value);
        break;
      case AppendAction::kOverwriteIfExistsOrAdd:
        headers.set(h.name, h.value);
        break;
      case AppendAction::kOverwriteIfExists:
        if (headers.has(h.name)) headers.set(h.name, h.value);
        break;
    }
  }
}

}  // namespace remora::router
