// Building the compiled knowledge base from a validated pack, and the KnowledgeBase facade.

#include "detail/embedded_pack.hpp"
#include "detail/impl.hpp"

#include <rxcaution/errors.hpp>

#include <algorithm>
#include <mutex>
#include <set>

namespace rxcaution {
namespace detail {

namespace {

template <class T>
void index_ids(const std::vector<T>& items, std::unordered_map<std::string, std::uint32_t>& index) {
    index.reserve(items.size());
    for (std::uint32_t i = 0; i < items.size(); ++i) index.emplace(items[i].id, i);
}

// Salt words also written as abbreviations; both spellings resolve.
const std::vector<std::pair<std::string, std::string>>& salt_abbreviations() {
    static const std::vector<std::pair<std::string, std::string>> abbreviations = {
        {"hydrochloride", "hcl"}, {"hydrobromide", "hbr"}, {"sulfate", "sulphate"}};
    return abbreviations;
}

std::string describe_target(const KnowledgeBaseImpl& kb, const NameTarget& t) {
    return t.kind == EntityKind::Product ? "product " + kb.pack.products[t.index].id
                                         : "substance " + kb.pack.substances[t.index].id;
}

void add_name(KnowledgeBaseImpl& kb, const std::string& text, NameTarget target, std::set<std::string>& clashes) {
    const std::string key = normalize_name(text);
    if (key.empty()) return;
    auto [it, inserted] = kb.names.emplace(key, target);
    if (inserted) {
        kb.suggestion_pool.emplace_back(key, target);
        return;
    }
    const NameTarget& old = it->second;
    if (old.kind == target.kind && old.index == target.index) return;
    // A substance keeps its own name even when a product is called the same (e.g. a generic
    // product named after its only ingredient); any other clash is a data error.
    if (old.kind == EntityKind::Substance && target.kind == EntityKind::Product) return;
    if (old.kind == EntityKind::Product && target.kind == EntityKind::Substance) {
        it->second = target;
        return;
    }
    clashes.insert("the name \"" + key + "\" refers to both " + describe_target(kb, old) + " and " +
                   describe_target(kb, target));
}

}  // namespace

bool KnowledgeBaseImpl::in_class(std::uint32_t substance, std::uint32_t cls) const {
    const auto& links = substance_classes[substance];
    auto it = std::lower_bound(links.begin(), links.end(), cls,
                               [](const ClassLink& l, std::uint32_t c) { return l.cls < c; });
    return it != links.end() && it->cls == cls;
}

bool KnowledgeBaseImpl::matches(std::uint32_t substance, const Participant& p) const {
    if (p.kind == EntityKind::Substance) return substance_index.at(p.id) == substance;
    if (p.kind == EntityKind::Class) return in_class(substance, class_index.at(p.id));
    return false;
}

std::vector<std::string> KnowledgeBaseImpl::class_path(std::uint32_t substance, std::uint32_t cls) const {
    // Follow the BFS predecessors from the target class back down to a direct membership.
    std::vector<std::string> path;
    const auto& links = substance_classes[substance];
    std::int32_t current = static_cast<std::int32_t>(cls);
    for (std::size_t guard = 0; current >= 0 && guard <= links.size(); ++guard) {
        path.push_back(pack.classes[static_cast<std::size_t>(current)].id);
        auto it = std::lower_bound(links.begin(), links.end(), static_cast<std::uint32_t>(current),
                                   [](const ClassLink& l, std::uint32_t c) { return l.cls < c; });
        if (it == links.end() || it->cls != static_cast<std::uint32_t>(current)) break;
        current = it->via;
    }
    std::reverse(path.begin(), path.end());
    return path;
}

const std::uint32_t* KnowledgeBaseImpl::rules_for_pair(std::uint32_t a, std::uint32_t b, std::size_t& count) const {
    auto it = pair_rules.find(pair_key(a, b));
    if (it == pair_rules.end()) {
        count = 0;
        return nullptr;
    }
    count = it->second.count;
    return pair_rule_pool.data() + it->second.offset;
}

std::int64_t KnowledgeBaseImpl::input_matches(const Resolution& res, const std::vector<std::uint32_t>& active,
                                              const Participant& p) const {
    if (p.kind == EntityKind::Product) {
        if (res.resolved && res.kind == EntityKind::Product && res.id == p.id)
            return active.empty() ? -1 : static_cast<std::int64_t>(active.front());
        return -1;
    }
    for (std::uint32_t s : active)
        if (matches(s, p)) return s;
    return -1;
}

std::vector<std::uint32_t> KnowledgeBaseImpl::expand(const Participant& p) const {
    if (p.kind == EntityKind::Substance) return {substance_index.at(p.id)};
    if (p.kind == EntityKind::Class) return class_members[class_index.at(p.id)];
    return {};  // product participants are matched against inputs, never expanded
}

std::shared_ptr<const KnowledgeBaseImpl> build_impl(PackData pack) {
    auto kb = std::make_shared<KnowledgeBaseImpl>();
    kb->pack = std::move(pack);
    auto& p = kb->pack;
    index_ids(p.substances, kb->substance_index);
    index_ids(p.products, kb->product_index);
    index_ids(p.classes, kb->class_index);
    index_ids(p.conditions, kb->condition_index);
    index_ids(p.sources, kb->source_index);
    index_ids(p.interactions, kb->interaction_index);
    index_ids(p.contraindications, kb->contraindication_index);
    index_ids(p.treatments, kb->treatment_index);
    for (std::uint32_t i = 0; i < p.profiles.size(); ++i) kb->profile_index.emplace(p.profiles[i].substance, i);

    // --- the graph: every entity a vertex, every relation an edge -----------------------------
    Graph& g = kb->graph;
    auto add_vertices = [&](EntityKind kind, std::size_t n, std::vector<Vertex>& out) {
        out.reserve(n);
        for (std::uint32_t i = 0; i < n; ++i) out.push_back(boost::add_vertex(VertexProps{kind, i}, g));
    };
    add_vertices(EntityKind::Substance, p.substances.size(), kb->substance_vertex);
    add_vertices(EntityKind::Product, p.products.size(), kb->product_vertex);
    add_vertices(EntityKind::Class, p.classes.size(), kb->class_vertex);
    add_vertices(EntityKind::Condition, p.conditions.size(), kb->condition_vertex);
    add_vertices(EntityKind::Treatment, p.treatments.size(), kb->treatment_vertex);
    auto vertex_of = [&](const Participant& part) -> Vertex {
        switch (part.kind) {
            case EntityKind::Substance: return kb->substance_vertex[kb->substance_index.at(part.id)];
            case EntityKind::Class: return kb->class_vertex[kb->class_index.at(part.id)];
            case EntityKind::Product: return kb->product_vertex[kb->product_index.at(part.id)];
            default: return kb->condition_vertex[kb->condition_index.at(part.id)];
        }
    };
    for (std::uint32_t i = 0; i < p.products.size(); ++i)
        for (const auto& ing : p.products[i].ingredients)
            boost::add_edge(kb->product_vertex[i], kb->substance_vertex[kb->substance_index.at(ing)],
                            EdgeProps{EdgeKind::HasIngredient, 0}, g);
    for (std::uint32_t c = 0; c < p.classes.size(); ++c) {
        for (const auto& m : p.classes[c].members)
            boost::add_edge(kb->substance_vertex[kb->substance_index.at(m.substance)], kb->class_vertex[c],
                            EdgeProps{EdgeKind::MemberOf, 0}, g);
        for (const auto& parent : p.classes[c].parents)
            boost::add_edge(kb->class_vertex[c], kb->class_vertex[kb->class_index.at(parent)],
                            EdgeProps{EdgeKind::SubclassOf, 0}, g);
    }
    for (std::uint32_t c = 0; c < p.conditions.size(); ++c)
        for (const auto& parent : p.conditions[c].parents)
            boost::add_edge(kb->condition_vertex[c], kb->condition_vertex[kb->condition_index.at(parent)],
                            EdgeProps{EdgeKind::ConditionParent, 0}, g);
    for (std::uint32_t r = 0; r < p.interactions.size(); ++r)
        boost::add_edge(vertex_of(p.interactions[r].first), vertex_of(p.interactions[r].second),
                        EdgeProps{EdgeKind::InteractsWith, r}, g);
    for (std::uint32_t r = 0; r < p.contraindications.size(); ++r)
        boost::add_edge(vertex_of(p.contraindications[r].subject),
                        kb->condition_vertex[kb->condition_index.at(p.contraindications[r].condition)],
                        EdgeProps{EdgeKind::ContraindicatedIn, r}, g);
    for (std::uint32_t t = 0; t < p.treatments.size(); ++t) {
        for (const auto& c : p.treatments[t].treats)
            boost::add_edge(kb->treatment_vertex[t], kb->condition_vertex[kb->condition_index.at(c)],
                            EdgeProps{EdgeKind::Treats, 0}, g);
        for (const auto& o : p.treatments[t].complements)
            boost::add_edge(kb->treatment_vertex[t], kb->treatment_vertex[kb->treatment_index.at(o)],
                            EdgeProps{EdgeKind::Complements, 0}, g);
        for (const auto& s : p.treatments[t].substances)
            boost::add_edge(kb->treatment_vertex[t], kb->substance_vertex[kb->substance_index.at(s)],
                            EdgeProps{EdgeKind::UsesSubstance, 0}, g);
    }

    // --- class closure: BFS from each substance up member-of / subclass-of edges --------------
    const std::size_t n_sub = p.substances.size();
    kb->substance_classes.resize(n_sub);
    kb->class_members.resize(p.classes.size());
    std::vector<std::int32_t> via(p.classes.size());
    std::vector<char> seen(p.classes.size());
    std::vector<std::uint32_t> queue;
    for (std::uint32_t s = 0; s < n_sub; ++s) {
        std::fill(seen.begin(), seen.end(), 0);
        queue.clear();
        for (auto [e, end] = boost::out_edges(kb->substance_vertex[s], g); e != end; ++e) {
            if (g[*e].kind != EdgeKind::MemberOf) continue;
            const std::uint32_t c = g[boost::target(*e, g)].index;
            if (seen[c]) continue;
            seen[c] = 1;
            via[c] = -1;
            queue.push_back(c);
        }
        for (std::size_t q = 0; q < queue.size(); ++q) {
            const std::uint32_t c = queue[q];
            for (auto [e, end] = boost::out_edges(kb->class_vertex[c], g); e != end; ++e) {
                if (g[*e].kind != EdgeKind::SubclassOf) continue;
                const std::uint32_t parent = g[boost::target(*e, g)].index;
                if (seen[parent]) continue;
                seen[parent] = 1;
                via[parent] = static_cast<std::int32_t>(c);
                queue.push_back(parent);
            }
        }
        auto& links = kb->substance_classes[s];
        for (std::uint32_t c : queue) {
            links.push_back({c, via[c]});
            kb->class_members[c].push_back(s);
        }
        std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) { return a.cls < b.cls; });
    }

    // --- compile every rule into the substance-pair index -------------------------------------
    {
        std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> building;
        kb->interactions_by_product.resize(p.products.size());
        for (std::uint32_t r = 0; r < p.interactions.size(); ++r) {
            const auto& rule = p.interactions[r];
            if (rule.first.kind == EntityKind::Product || rule.second.kind == EntityKind::Product) {
                for (const Participant* part : {&rule.first, &rule.second})
                    if (part->kind == EntityKind::Product) {
                        auto& list = kb->interactions_by_product[kb->product_index.at(part->id)];
                        if (list.empty() || list.back() != r) list.push_back(r);
                    }
                continue;
            }
            const auto a = kb->expand(p.interactions[r].first);
            const auto b = kb->expand(p.interactions[r].second);
            for (std::uint32_t x : a)
                for (std::uint32_t y : b) {
                    if (x == y) continue;
                    auto& list = building[pair_key(x, y)];
                    if (list.empty() || list.back() != r) list.push_back(r);
                }
        }
        kb->pair_rules.reserve(building.size());
        for (auto& [key, rules] : building) {
            kb->pair_rules.emplace(key, KnowledgeBaseImpl::Span{static_cast<std::uint32_t>(kb->pair_rule_pool.size()),
                                                               static_cast<std::uint32_t>(rules.size())});
            kb->pair_rule_pool.insert(kb->pair_rule_pool.end(), rules.begin(), rules.end());
        }
        p.info.compiled_pairs = kb->pair_rules.size();
    }

    kb->product_active_ingredients.resize(p.products.size());
    for (std::uint32_t i = 0; i < p.products.size(); ++i)
        for (const auto& ing : p.products[i].ingredients) {
            bool inactive = false;
            for (const auto& ii : p.products[i].inactive_ingredients) inactive = inactive || ii.substance == ing;
            if (!inactive) kb->product_active_ingredients[i].push_back(kb->substance_index.at(ing));
        }

    // --- conditions: ancestors (a rule on a parent applies to its children) -------------------
    kb->condition_ancestors.resize(p.conditions.size());
    for (std::uint32_t c = 0; c < p.conditions.size(); ++c) {
        std::vector<std::uint32_t> out{c};
        for (std::size_t q = 0; q < out.size(); ++q)
            for (const auto& parent : p.conditions[out[q]].parents) {
                const std::uint32_t pi = kb->condition_index.at(parent);
                if (std::find(out.begin(), out.end(), pi) == out.end()) out.push_back(pi);
            }
        kb->condition_ancestors[c] = std::move(out);
    }
    kb->contraindications_by_substance.resize(n_sub);
    kb->contraindications_by_product.resize(p.products.size());
    for (std::uint32_t r = 0; r < p.contraindications.size(); ++r) {
        const auto& subj = p.contraindications[r].subject;
        if (subj.kind == EntityKind::Product) kb->contraindications_by_product[kb->product_index.at(subj.id)].push_back(r);
        else
            for (std::uint32_t s : kb->expand(subj)) kb->contraindications_by_substance[s].push_back(r);
    }
    kb->duplicate_classes_by_substance.resize(n_sub);
    for (std::uint32_t c = 0; c < p.classes.size(); ++c)
        if (p.classes[c].duplicate_therapy)
            for (std::uint32_t s : kb->class_members[c]) kb->duplicate_classes_by_substance[s].push_back(c);

    // --- names ------------------------------------------------------------------------------
    std::set<std::string> clashes;
    for (std::uint32_t i = 0; i < p.substances.size(); ++i) {
        const auto& s = p.substances[i];
        add_name(*kb, s.name, {EntityKind::Substance, i, "name"}, clashes);
        add_name(*kb, s.id, {EntityKind::Substance, i, "id"}, clashes);
        for (const auto& syn : s.synonyms) add_name(*kb, syn, {EntityKind::Substance, i, "synonym"}, clashes);
        for (const auto& salt : s.salts) {
            for (const auto& base : std::vector<std::string>{s.name, s.id}) {
                add_name(*kb, base + " " + salt, {EntityKind::Substance, i, "salt"}, clashes);
                for (const auto& [full, abbr] : salt_abbreviations())
                    if (salt == full) add_name(*kb, base + " " + abbr, {EntityKind::Substance, i, "salt"}, clashes);
            }
        }
        if (!s.identifiers.rxcui.empty()) {
            add_name(*kb, s.identifiers.rxcui, {EntityKind::Substance, i, "rxcui"}, clashes);
            add_name(*kb, "rxcui " + s.identifiers.rxcui, {EntityKind::Substance, i, "rxcui"}, clashes);
        }
        if (!s.identifiers.drugbank.empty())
            add_name(*kb, s.identifiers.drugbank, {EntityKind::Substance, i, "drugbank"}, clashes);
        if (!s.identifiers.unii.empty()) add_name(*kb, s.identifiers.unii, {EntityKind::Substance, i, "unii"}, clashes);
    }
    for (std::uint32_t i = 0; i < p.products.size(); ++i) {
        const auto& x = p.products[i];
        add_name(*kb, x.name, {EntityKind::Product, i, "brand"}, clashes);
        add_name(*kb, x.id, {EntityKind::Product, i, "id"}, clashes);
        for (const auto& syn : x.synonyms) add_name(*kb, syn, {EntityKind::Product, i, "brand"}, clashes);
        std::vector<std::string> rxcuis = x.identifiers.rxcui_products;
        if (!x.identifiers.rxcui.empty()) rxcuis.push_back(x.identifiers.rxcui);
        for (const auto& code : rxcuis) {
            add_name(*kb, code, {EntityKind::Product, i, "rxcui"}, clashes);
            add_name(*kb, "rxcui " + code, {EntityKind::Product, i, "rxcui"}, clashes);
        }
    }
    if (!clashes.empty()) {
        std::vector<std::string> problems;
        for (const auto& c : clashes) problems.push_back(p.info.origin + ": " + c);
        throw IntegrityError(p.info.origin, problems);
    }
    // The suggestion pool holds only readable names (no ids or codes).
    std::erase_if(kb->suggestion_pool, [](const auto& e) {
        const std::string_view by = e.second.matched_by;
        return by == "rxcui" || by == "drugbank" || by == "unii";
    });
    for (std::uint32_t c = 0; c < p.conditions.size(); ++c) {
        const auto& cond = p.conditions[c];
        std::vector<std::string> all = cond.synonyms;
        all.push_back(cond.id);
        all.push_back(cond.name);
        for (const auto& n : all) {
            const std::string key = normalize_name(n);
            if (key.empty()) continue;
            if (kb->condition_names.emplace(key, c).second) kb->condition_pool.emplace_back(key, c);
        }
    }
    return kb;
}


}  // namespace detail

// ------------------------------------------------------------------------------------------------

namespace {
template <class T>
const T* find_in(const std::vector<T>& items, const std::unordered_map<std::string, std::uint32_t>& index,
                 std::string_view id) {
    auto it = index.find(std::string(id));
    return it == index.end() ? nullptr : &items[it->second];
}

template <class T>
const T& get_in(const std::vector<T>& items, const std::unordered_map<std::string, std::uint32_t>& index,
                std::string_view id, const char* what) {
    if (const T* p = find_in(items, index, id)) return *p;
    throw NotFoundError(std::string(id), {}, what);
}

}  // namespace

KnowledgeBase::KnowledgeBase(std::shared_ptr<const detail::KnowledgeBaseImpl> impl) : impl_(std::move(impl)) {}

KnowledgeBase KnowledgeBase::builtin() {
    // Thread-safe one-time build; copies share the same immutable implementation.
    static const std::shared_ptr<const detail::KnowledgeBaseImpl> impl = [] {
        const auto& files = detail::embedded_pack();
        auto find = [&](const std::string& name) -> detail::PackFile {
            for (const auto& f : files)
                if (f.name == name) return {f.name, f.text, {}};
            throw DataError(name, name + ": not embedded in the library");
        };
        detail::PackData pack = detail::load_pack(find("data/manifest.json"), detail::PackLayout::Manifest,
                                                  [&](const std::string& rel) { return find("data/" + rel); }, {});
        pack.info.origin = "<builtin>";
        return detail::build_impl(std::move(pack));
    }();
    return KnowledgeBase(impl);
}

KnowledgeBase KnowledgeBase::load(const std::filesystem::path& path, const LoadOptions& options) {
    detail::PackData pack = detail::load_pack_path(path, options);
    pack.info.origin = path.generic_string();
    return KnowledgeBase(detail::build_impl(std::move(pack)));
}

KnowledgeBase KnowledgeBase::from_json(std::string_view text, const LoadOptions& options, std::string_view origin) {
    detail::PackData pack = detail::load_pack({std::string(origin), text, {}}, detail::PackLayout::Bundled, {}, options);
    pack.info.origin = std::string(origin);
    return KnowledgeBase(detail::build_impl(std::move(pack)));
}

const PackInfo& KnowledgeBase::info() const noexcept { return impl_->pack.info; }
Resolution KnowledgeBase::resolve(std::string_view text) const { return impl_->resolve(text); }
ConditionResolution KnowledgeBase::resolve_condition(std::string_view text) const { return impl_->resolve_condition(text); }
Report KnowledgeBase::check(const std::vector<std::string>& medications, const CheckContext& context) const {
    return impl_->check(medications, context);
}

std::vector<InteractionRule> KnowledgeBase::interactions_between(std::string_view a, std::string_view b) const {
    // The check applies everything a two-drug regimen would (class and product rules, inactive
    // ingredients, superseded rules), so the answer here always agrees with check().
    CheckContext ctx;
    ctx.duplicate_therapy = false;
    const Report report = impl_->check({std::string(a), std::string(b)}, ctx);
    for (const auto& r : report.inputs)
        if (!r.resolved) throw NotFoundError(r.input, r.suggestions, "medication");
    std::vector<InteractionRule> out;
    for (const auto& w : report.warnings)
        if (w.kind == WarningKind::DrugDrug) out.push_back(impl_->pack.interactions[impl_->interaction_index.at(w.rule)]);
    return out;  // the report is already sorted most severe first
}

const Substance* KnowledgeBase::find_substance(std::string_view id) const noexcept {
    return find_in(impl_->pack.substances, impl_->substance_index, id);
}
const Substance& KnowledgeBase::substance(std::string_view id) const {
    return get_in(impl_->pack.substances, impl_->substance_index, id, "substance");
}
const Product* KnowledgeBase::find_product(std::string_view id) const noexcept {
    return find_in(impl_->pack.products, impl_->product_index, id);
}
const Product& KnowledgeBase::product(std::string_view id) const {
    return get_in(impl_->pack.products, impl_->product_index, id, "product");
}
const DrugClass* KnowledgeBase::find_class(std::string_view id) const noexcept {
    return find_in(impl_->pack.classes, impl_->class_index, id);
}
const DrugClass& KnowledgeBase::drug_class(std::string_view id) const {
    return get_in(impl_->pack.classes, impl_->class_index, id, "class");
}
const Condition* KnowledgeBase::find_condition(std::string_view id) const noexcept {
    return find_in(impl_->pack.conditions, impl_->condition_index, id);
}
const Condition& KnowledgeBase::condition(std::string_view id) const {
    return get_in(impl_->pack.conditions, impl_->condition_index, id, "condition");
}
const Source* KnowledgeBase::find_source(std::string_view id) const noexcept {
    return find_in(impl_->pack.sources, impl_->source_index, id);
}
const Source& KnowledgeBase::source(std::string_view id) const {
    return get_in(impl_->pack.sources, impl_->source_index, id, "source");
}
const InteractionRule& KnowledgeBase::interaction(std::string_view id) const {
    return get_in(impl_->pack.interactions, impl_->interaction_index, id, "interaction rule");
}
const ContraindicationRule& KnowledgeBase::contraindication(std::string_view id) const {
    return get_in(impl_->pack.contraindications, impl_->contraindication_index, id, "contraindication rule");
}
const Treatment& KnowledgeBase::treatment(std::string_view id) const {
    return get_in(impl_->pack.treatments, impl_->treatment_index, id, "treatment");
}
const Profile* KnowledgeBase::find_profile(std::string_view substance_id) const noexcept {
    auto it = impl_->profile_index.find(std::string(substance_id));
    return it == impl_->profile_index.end() ? nullptr : &impl_->pack.profiles[it->second];
}

const std::vector<Substance>& KnowledgeBase::substances() const noexcept { return impl_->pack.substances; }
const std::vector<Product>& KnowledgeBase::products() const noexcept { return impl_->pack.products; }
const std::vector<DrugClass>& KnowledgeBase::classes() const noexcept { return impl_->pack.classes; }
const std::vector<Condition>& KnowledgeBase::conditions() const noexcept { return impl_->pack.conditions; }
const std::vector<InteractionRule>& KnowledgeBase::interactions() const noexcept { return impl_->pack.interactions; }
const std::vector<ContraindicationRule>& KnowledgeBase::contraindications() const noexcept {
    return impl_->pack.contraindications;
}
const std::vector<Treatment>& KnowledgeBase::treatments() const noexcept { return impl_->pack.treatments; }
const std::vector<Profile>& KnowledgeBase::profiles() const noexcept { return impl_->pack.profiles; }
const std::vector<Source>& KnowledgeBase::sources() const noexcept { return impl_->pack.sources; }

std::vector<std::string> KnowledgeBase::classes_of(std::string_view substance_id) const {
    auto it = impl_->substance_index.find(std::string(substance_id));
    if (it == impl_->substance_index.end()) throw NotFoundError(std::string(substance_id), {}, "substance");
    std::vector<std::string> out;
    for (const auto& link : impl_->substance_classes[it->second]) out.push_back(impl_->pack.classes[link.cls].id);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> KnowledgeBase::members_of(std::string_view class_id) const {
    auto it = impl_->class_index.find(std::string(class_id));
    if (it == impl_->class_index.end()) throw NotFoundError(std::string(class_id), {}, "class");
    std::vector<std::string> out;
    for (auto s : impl_->class_members[it->second]) out.push_back(impl_->pack.substances[s].id);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<InteractionRule> KnowledgeBase::rules_for(std::string_view id) const {
    const std::string key(id);
    std::vector<InteractionRule> out;
    auto sub = impl_->substance_index.find(key);
    auto cls = impl_->class_index.find(key);
    if (sub == impl_->substance_index.end() && cls == impl_->class_index.end() && !impl_->product_index.count(key))
        throw NotFoundError(key, {}, "substance, product or class");
    for (const auto& rule : impl_->pack.interactions) {
        bool hit = false;
        for (const Participant* part : {&rule.first, &rule.second}) {
            if (part->id == key) hit = true;
            else if (sub != impl_->substance_index.end() && impl_->matches(sub->second, *part)) hit = true;
        }
        if (hit) out.push_back(rule);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.severity > y.severity; });
    return out;
}

std::vector<ContraindicationRule> KnowledgeBase::contraindications_for(std::string_view id) const {
    const std::string key(id);
    std::vector<std::uint32_t> rules;
    if (auto it = impl_->substance_index.find(key); it != impl_->substance_index.end()) {
        rules = impl_->contraindications_by_substance[it->second];
    } else if (auto pt = impl_->product_index.find(key); pt != impl_->product_index.end()) {
        rules = impl_->contraindications_by_product[pt->second];
        for (const auto& ing : impl_->pack.products[pt->second].ingredients) {
            const auto& more = impl_->contraindications_by_substance[impl_->substance_index.at(ing)];
            rules.insert(rules.end(), more.begin(), more.end());
        }
    } else if (impl_->class_index.count(key)) {
        for (std::uint32_t r = 0; r < impl_->pack.contraindications.size(); ++r)
            if (impl_->pack.contraindications[r].subject.id == key) rules.push_back(r);
    } else {
        throw NotFoundError(key, {}, "substance, product or class");
    }
    std::sort(rules.begin(), rules.end());
    rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
    std::vector<ContraindicationRule> out;
    for (auto r : rules) out.push_back(impl_->pack.contraindications[r]);
    std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.severity > y.severity; });
    return out;
}

std::string KnowledgeBase::to_json() const { return detail::write_bundled_json(impl_->pack); }

}  // namespace rxcaution
