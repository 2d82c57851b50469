#pragma once
// The parsed, validated content of a pack, before indexing. Kept as plain vectors in pack order.

#include <rxcaution/entities.hpp>
#include <rxcaution/knowledge_base.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

inline constexpr int kFormatVersion = 1;

// Where an entity was defined, for integrity messages: "data/classes.json:/classes/4".
struct Origin {
    std::string file;
    std::string pointer;
    [[nodiscard]] std::string str() const { return file + ":" + pointer; }
};

struct PackData {
    PackInfo info;
    std::vector<Source> sources;
    std::vector<Substance> substances;
    std::vector<Product> products;
    std::vector<DrugClass> classes;
    std::vector<Condition> conditions;
    std::vector<InteractionRule> interactions;
    std::vector<ContraindicationRule> contraindications;
    std::vector<Treatment> treatments;
    std::vector<Profile> profiles;

    // Parallel to the vectors above.
    std::vector<Origin> source_origins, substance_origins, product_origins, class_origins,
        condition_origins, interaction_origins, contraindication_origins, treatment_origins,
        profile_origins;

    // The whole pack as one bundled document (manifest without `files` + merged sections).
    nlohmann::json bundled;
};

// One input document of a pack.
struct PackFile {
    std::string name;  // as shown in messages
    std::string text;
};

// Reads a file, enforcing the size limit. Throws DataError.
std::string read_file_limited(const std::filesystem::path& path, const std::string& display,
                              std::size_t max_bytes);

// Parses and validates a pack given as a manifest plus its files (loaded lazily through `read`),
// or as one bundled document. Throws the rxcaution error hierarchy; never returns partial data.
PackData load_manifest_pack(const PackFile& manifest,
                            const std::function<PackFile(const std::string& relative)>& read,
                            const LoadOptions& options);
PackData load_bundled_pack(const PackFile& bundled, const LoadOptions& options);

// Parses JSON text, turning parse failures into ParseError with line and column.
nlohmann::json parse_json(const std::string& file, std::string_view text, std::size_t max_bytes);

}  // namespace rxcaution::detail
