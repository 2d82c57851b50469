#pragma once
// The compiled knowledge base: the pack plus its Boost.Graph and the indexes queries use.
// Built once by build_impl(); never mutated afterwards, which is what makes concurrent queries safe.

#include "detail/pack.hpp"

#include <rxcaution/knowledge_base.hpp>

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rxcaution::detail {

enum class EdgeKind : std::uint8_t { HasIngredient, MemberOf, SubclassOf, InteractsWith, ContraindicatedIn, Treats,
                                     Complements, UsesSubstance, ConditionParent };

struct VertexProps {
    EntityKind kind = EntityKind::Substance;
    std::uint32_t index = 0;  // into the pack vector of that kind
};

struct EdgeProps {
    EdgeKind kind = EdgeKind::MemberOf;
    std::uint32_t rule = 0;  // interaction / contraindication index for rule edges
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, VertexProps, EdgeProps>;
using Vertex = Graph::vertex_descriptor;

// A name people may type, after normalisation, and what it stands for.
struct NameTarget {
    EntityKind kind = EntityKind::Substance;  // substance or product
    std::uint32_t index = 0;
    const char* matched_by = "name";
};

inline std::uint64_t pair_key(std::uint32_t a, std::uint32_t b) {
    if (a > b) std::swap(a, b);
    return (static_cast<std::uint64_t>(a) << 32) | b;
}

struct KnowledgeBaseImpl {
    PackData pack;

    std::unordered_map<std::string, std::uint32_t> substance_index, product_index, class_index, condition_index,
        source_index, interaction_index, contraindication_index, treatment_index, profile_index;

    Graph graph;
    std::vector<Vertex> substance_vertex, product_vertex, class_vertex, condition_vertex, treatment_vertex;

    // Transitive class closure. For a substance, each class it belongs to with the class it was
    // reached from (-1 when it is a direct member), so explanations can print the whole path.
    struct ClassLink {
        std::uint32_t cls;
        std::int32_t via;
    };
    std::vector<std::vector<ClassLink>> substance_classes;    // sorted by cls
    std::vector<std::vector<std::uint32_t>> class_members;    // sorted substance indexes

    // Compiled substance-pair index: rules whose participants cover both substances.
    struct Span {
        std::uint32_t offset;
        std::uint32_t count;
    };
    std::unordered_map<std::uint64_t, Span> pair_rules;
    std::vector<std::uint32_t> pair_rule_pool;

    // Rules with a product participant fire only when that product itself is an input.
    std::vector<std::vector<std::uint32_t>> interactions_by_product;
    // Per product, the ingredients that are checked (all but its inactive ingredients).
    std::vector<std::vector<std::uint32_t>> product_active_ingredients;

    std::vector<std::vector<std::uint32_t>> condition_ancestors;  // includes itself
    std::vector<std::vector<std::uint32_t>> contraindications_by_substance;
    std::vector<std::vector<std::uint32_t>> contraindications_by_product;
    std::vector<std::vector<std::uint32_t>> duplicate_classes_by_substance;

    std::unordered_map<std::string, NameTarget> names;                   // normalised text -> entity
    std::unordered_map<std::string, std::uint32_t> condition_names;      // normalised text -> condition
    std::vector<std::pair<std::string, NameTarget>> suggestion_pool;     // every medication name
    std::vector<std::pair<std::string, std::uint32_t>> condition_pool;   // every condition name

    // Queries.
    [[nodiscard]] bool in_class(std::uint32_t substance, std::uint32_t cls) const;
    [[nodiscard]] bool matches(std::uint32_t substance, const Participant& p) const;
    // Does input (resolved to `res`, with checked ingredients) match a participant? Returns the
    // ingredient that matched, or -1.
    [[nodiscard]] std::int64_t input_matches(const Resolution& res, const std::vector<std::uint32_t>& active,
                                             const Participant& p) const;
    [[nodiscard]] std::vector<std::string> class_path(std::uint32_t substance, std::uint32_t cls) const;
    [[nodiscard]] const std::uint32_t* rules_for_pair(std::uint32_t a, std::uint32_t b, std::size_t& count) const;
    [[nodiscard]] std::vector<std::uint32_t> expand(const Participant& p) const;
    [[nodiscard]] Resolution resolve(std::string_view text) const;
    [[nodiscard]] ConditionResolution resolve_condition(std::string_view text) const;
    [[nodiscard]] std::vector<std::string> suggest(const std::string& normalized) const;
    [[nodiscard]] std::vector<std::string> suggest_condition(const std::string& normalized) const;
    [[nodiscard]] Report check(const std::vector<std::string>& medications, const CheckContext& context) const;
};

std::shared_ptr<const KnowledgeBaseImpl> build_impl(PackData pack);

// Case/space/punctuation-insensitive form of what a person typed.
std::string normalize_name(std::string_view text);

}  // namespace rxcaution::detail
