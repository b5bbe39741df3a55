# Writes a C++ file defining `std::string_view SYMBOL()` that returns FILE's contents.
file(READ ${FILE} content)
set(body "#include <string_view>\n\nnamespace reelhub {\n\nstd::string_view ${SYMBOL}() {\n  static constexpr std::string_view text = R\"reelhub_embed(${content})reelhub_embed\";\n  return text;\n}\n\n}  // namespace reelhub\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
