// The KnowledgeBase facade: loading, lookups and the queries that walk the compiled graph.

#include "detail/embedded_snapshot.hpp"
#include "detail/encoded_rules.hpp"
#include "detail/impl.hpp"
#include "detail/snapshot.hpp"
#include "detail/pack_layers.hpp"

#include <rxcaution/errors.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

namespace rxcaution {

// ------------------------------------------------------------------------------------------------

namespace {
template <class T>
const T* find_in(const std::vector<T>& items, const detail::IdIndex& index, std::string_view id) {
    auto it = index.find(id);
    return it == index.end() ? nullptr : &items[it->second];
}

template <class T>
const T& get_in(const std::vector<T>& items, const detail::IdIndex& index, std::string_view id,
                const char* what) {
    if (const T* p = find_in(items, index, id)) return *p;
    throw NotFoundError(std::string(id), {}, what);
}

}  // namespace

KnowledgeBase::KnowledgeBase(std::shared_ptr<const detail::KnowledgeBaseImpl> impl) : impl_(std::move(impl)) {}

KnowledgeBase KnowledgeBase::builtin() {
    // Thread-safe one-time read of the snapshot compiled from data/ at build time (it was
    // validated then); copies share the same immutable implementation.
    static const std::shared_ptr<const detail::KnowledgeBaseImpl> impl = [] {
        const std::string_view bytes = detail::embedded_snapshot();
        if (bytes.empty()) throw DataError("<builtin>", "<builtin>: this build carries no built-in pack");
        auto kb = std::const_pointer_cast<detail::KnowledgeBaseImpl>(detail::read_snapshot(bytes, "<builtin>", 0, true));
        kb->pack.info.origin = "<builtin>";
        if (kb->pack.info.layers.size() == 1) kb->pack.info.layers.front().origin = "<builtin>";
        return std::shared_ptr<const detail::KnowledgeBaseImpl>(std::move(kb));
    }();
    return KnowledgeBase(impl);
}

namespace {
// The whole file when it starts with the snapshot signature; nothing (and nothing read past the
// signature) otherwise. The same checks as for pack files apply: a regular file within the size
// limit, never waiting on a FIFO.
std::optional<std::string> read_if_snapshot(const std::filesystem::path& path, const LoadOptions& options) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return std::nullopt;
    const std::string display = path.generic_string();
    detail::PackFileReader reader(path, display, options.max_file_bytes);
    std::string bytes(detail::kSnapshotMagic.size(), '\0');
    std::size_t got = 0;
    while (got < bytes.size()) {
        const std::size_t n = reader.read(bytes.data() + got, bytes.size() - got);
        if (n == 0) break;
        got += n;
    }
    bytes.resize(got);
    if (!detail::looks_like_snapshot(bytes)) return std::nullopt;
    std::error_code size_ec;
    const auto size = std::filesystem::file_size(path, size_ec);
    if (!size_ec && size <= options.max_file_bytes) bytes.reserve(static_cast<std::size_t>(size));
    char chunk[1 << 16];
    while (const std::size_t n = reader.read(chunk, sizeof chunk)) bytes.append(chunk, n);
    return bytes;
}

std::shared_ptr<const detail::KnowledgeBaseImpl> with_origin(std::shared_ptr<const detail::KnowledgeBaseImpl> impl,
                                                             std::string origin) {
    // Only this function holds the new implementation: setting where it came from is safe.
    auto& info = std::const_pointer_cast<detail::KnowledgeBaseImpl>(impl)->pack.info;
    if (info.layers.size() == 1) info.layers.front().origin = origin;
    info.origin = std::move(origin);
    return impl;
}
}  // namespace

KnowledgeBase KnowledgeBase::load(const std::filesystem::path& path, const LoadOptions& options) {
    if (auto bytes = read_if_snapshot(path, options))
        return KnowledgeBase(with_origin(detail::read_snapshot(*bytes, path.generic_string()), path.generic_string()));
    // A pack loaded alone keeps its interaction rules encoded from the start (encoded_rules.hpp).
    detail::PackData pack = detail::load_pack_path(path, options, true);
    pack.info.origin = path.generic_string();
    detail::set_single_layer(pack);
    return KnowledgeBase(detail::build_impl(std::move(pack)));
}

KnowledgeBase KnowledgeBase::load(const std::vector<std::filesystem::path>& paths, const LoadOptions& options) {
    if (paths.empty()) throw DataError("<packs>", "no pack given: a layered knowledge base needs at least one pack");
    auto one = [&](const std::filesystem::path& path) -> KnowledgeBase {
        return path == kBuiltinName ? builtin() : load(path, options);
    };
    if (paths.size() == 1) return one(paths[0]);
    std::vector<detail::PackData> layers;
    layers.reserve(paths.size());
    for (const auto& path : paths) {
        // The built-in pack and snapshots are compiled already: their entities are copied out
        // (the built-in instance stays shared) and merged like any pack's.
        if (path == kBuiltinName) {
            layers.push_back(detail::pack_of(*builtin().impl_));
            continue;
        }
        if (auto bytes = read_if_snapshot(path, options)) {
            detail::PackData pack = detail::pack_of(*detail::read_snapshot(*bytes, path.generic_string()));
            pack.info.origin = path.generic_string();
            if (pack.info.layers.size() == 1) pack.info.layers.front().origin = pack.info.origin;
            layers.push_back(std::move(pack));
            continue;
        }
        detail::PackData pack = detail::load_pack_path(path, options);
        pack.info.origin = path.generic_string();
        layers.push_back(std::move(pack));
    }
    return KnowledgeBase(detail::build_impl(detail::merge_layers(std::move(layers))));
}

KnowledgeBase KnowledgeBase::from_json(std::string_view text, const LoadOptions& options, std::string_view origin) {
    detail::PackData pack =
        detail::load_pack({std::string(origin), text, {}}, detail::PackLayout::Bundled, {}, options, true);
    pack.info.origin = std::string(origin);
    detail::set_single_layer(pack);
    return KnowledgeBase(detail::build_impl(std::move(pack)));
}

KnowledgeBase KnowledgeBase::from_snapshot(std::string_view bytes, std::string_view origin) {
    return KnowledgeBase(with_origin(detail::read_snapshot(bytes, std::string(origin)), std::string(origin)));
}

std::string KnowledgeBase::to_snapshot() const { return detail::write_snapshot(*impl_); }

void KnowledgeBase::save(const std::filesystem::path& path) const {
    // Written next to the target and renamed over it, so a reader never sees half a snapshot.
    const std::string bytes = to_snapshot();
    const std::string display = path.generic_string();
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw DataError(display, display + ": cannot write the snapshot (" + std::strerror(errno) + ")");
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            throw DataError(display, display + ": cannot write the snapshot (write failed)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw DataError(display, display + ": cannot write the snapshot (" + ec.message() + ")");
    }
}

const PackInfo& KnowledgeBase::info() const noexcept { return impl_->pack.info; }
Resolution KnowledgeBase::resolve(std::string_view text) const { return impl_->resolve(text); }
ConditionResolution KnowledgeBase::resolve_condition(std::string_view text) const { return impl_->resolve_condition(text); }
Report KnowledgeBase::check(const std::vector<std::string>& medications, const CheckContext& context) const {
    return detail::run_check(impl_, medications, context);
}
Report KnowledgeBase::check(std::vector<std::string>&& medications, const CheckContext& context) const {
    return detail::run_check(impl_, std::move(medications), context);
}

RefList<InteractionRule> KnowledgeBase::interactions_between(std::string_view a, std::string_view b) const {
    // The check applies everything a two-drug regimen would (class and product rules, inactive
    // ingredients, superseded rules), so the answer here always agrees with check(). It resolves
    // each text once and writes no text.
    CheckContext ctx;
    ctx.duplicate_therapy = false;
    const Report report = detail::run_check(impl_, {std::string(a), std::string(b)}, ctx);
    for (std::size_t i = 0; i < report.input_count(); ++i)
        if (!report.input_resolved(i)) {
            const Resolution r = report.input(i);
            throw NotFoundError(r.input, r.suggestions, "medication");
        }
    std::vector<const InteractionRule*> out;
    for (const auto& w : report.warnings())
        if (w.kind == WarningKind::DrugDrug) out.push_back(&impl_->interaction(w.rule));
    return RefList<InteractionRule>(std::move(out));  // the report is already sorted most severe first
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
// `.all()` first, as an argument: the built-in pack decodes a deferred section, and indexes the
// ones it skipped at load, before find_in or get_in reads the index.
const DrugClass* KnowledgeBase::find_class(std::string_view id) const noexcept {
    return find_in(impl_->pack.classes.all(), impl_->class_index, id);
}
const DrugClass& KnowledgeBase::drug_class(std::string_view id) const {
    return get_in(impl_->pack.classes.all(), impl_->class_index, id, "class");
}
const Condition* KnowledgeBase::find_condition(std::string_view id) const noexcept {
    return find_in(impl_->pack.conditions.all(), impl_->condition_index, id);
}
const Condition& KnowledgeBase::condition(std::string_view id) const {
    return get_in(impl_->pack.conditions.all(), impl_->condition_index, id, "condition");
}
const Source* KnowledgeBase::find_source(std::string_view id) const noexcept {
    return find_in(impl_->pack.sources.all(), impl_->source_index, id);
}
const Source& KnowledgeBase::source(std::string_view id) const {
    return get_in(impl_->pack.sources.all(), impl_->source_index, id, "source");
}
const InteractionRule* KnowledgeBase::find_interaction(std::string_view id) const noexcept {
    return impl_->find_interaction(id);
}
const ContraindicationRule* KnowledgeBase::find_contraindication(std::string_view id) const noexcept {
    return find_in(impl_->pack.contraindications.all(), impl_->contraindication_index, id);
}
const Treatment* KnowledgeBase::find_treatment(std::string_view id) const noexcept {
    return find_in(impl_->pack.treatments.all(), impl_->treatment_index, id);
}
const InteractionRule& KnowledgeBase::interaction(std::string_view id) const {
    if (const InteractionRule* rule = impl_->find_interaction(id)) return *rule;
    throw NotFoundError(std::string(id), {}, "interaction rule");
}
const ContraindicationRule& KnowledgeBase::contraindication(std::string_view id) const {
    return get_in(impl_->pack.contraindications.all(), impl_->contraindication_index, id, "contraindication rule");
}
const Treatment& KnowledgeBase::treatment(std::string_view id) const {
    return get_in(impl_->pack.treatments.all(), impl_->treatment_index, id, "treatment");
}
const Profile* KnowledgeBase::find_profile(std::string_view substance_id) const noexcept {
    (void)impl_->pack.profiles.all();  // the built-in pack indexes its profiles when it decodes them
    auto it = impl_->profile_index.find(substance_id);
    return it == impl_->profile_index.end() ? nullptr : &impl_->pack.profiles[it->second];
}

const std::vector<Substance>& KnowledgeBase::substances() const noexcept { return impl_->pack.substances; }
const std::vector<Product>& KnowledgeBase::products() const noexcept { return impl_->pack.products; }
const std::vector<DrugClass>& KnowledgeBase::classes() const noexcept { return impl_->pack.classes.all(); }
const std::vector<Condition>& KnowledgeBase::conditions() const noexcept { return impl_->pack.conditions.all(); }
std::string_view KnowledgeBase::interaction_id(std::size_t index) const {
    if (index >= impl_->interaction_count()) throw NotFoundError("#" + std::to_string(index), {}, "interaction rule");
    return impl_->interaction_id(static_cast<std::uint32_t>(index));
}

const std::vector<InteractionRule>& KnowledgeBase::interactions() const noexcept { return impl_->all_interactions(); }
const std::vector<CumulativeRule>& KnowledgeBase::cumulative_rules() const noexcept {
    return impl_->pack.cumulative_rules;
}
const CumulativeRule* KnowledgeBase::find_cumulative_rule(std::string_view id) const noexcept {
    return find_in(impl_->pack.cumulative_rules, impl_->cumulative_index, id);
}
const std::vector<ContraindicationRule>& KnowledgeBase::contraindications() const noexcept {
    return impl_->pack.contraindications.all();
}
const std::vector<Treatment>& KnowledgeBase::treatments() const noexcept { return impl_->pack.treatments.all(); }
const std::vector<Profile>& KnowledgeBase::profiles() const noexcept { return impl_->pack.profiles.all(); }
const std::vector<Source>& KnowledgeBase::sources() const noexcept { return impl_->pack.sources.all(); }

std::vector<std::string> KnowledgeBase::classes_of(std::string_view substance_id) const {
    auto it = impl_->substance_index.find(substance_id);
    if (it == impl_->substance_index.end()) throw NotFoundError(std::string(substance_id), {}, "substance");
    std::vector<std::string> out;
    for (const auto& link : impl_->substance_classes[it->second]) out.push_back(impl_->pack.classes[link.cls].id);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> KnowledgeBase::members_of(std::string_view class_id) const {
    auto it = impl_->class_index.find(class_id);
    if (it == impl_->class_index.end()) throw NotFoundError(std::string(class_id), {}, "class");
    std::vector<std::string> out;
    for (auto s : impl_->class_members[it->second]) out.push_back(impl_->pack.substances[s].id);
    std::sort(out.begin(), out.end());
    return out;
}

RefList<InteractionRule> KnowledgeBase::rules_for(std::string_view id) const {
    const auto& kb = *impl_;
    std::vector<std::uint32_t> rules;
    if (auto sub = kb.substance_index.find(id); sub != kb.substance_index.end()) {
        // The substance's own Participates edges, then those of every class it belongs to.
        kb.participating_rules(kb.substance_vertex(sub->second), rules);
        for (const auto& link : kb.substance_classes[sub->second]) kb.participating_rules(kb.class_vertex(link.cls), rules);
    } else if (auto cls = kb.class_index.find(id); cls != kb.class_index.end()) {
        kb.participating_rules(kb.class_vertex(cls->second), rules);
    } else if (auto prod = kb.product_index.find(id); prod != kb.product_index.end()) {
        kb.participating_rules(kb.product_vertex(prod->second), rules);
    } else {
        throw NotFoundError(std::string(id), {}, "substance, product or class");
    }
    std::sort(rules.begin(), rules.end());
    rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
    std::vector<const InteractionRule*> out;
    out.reserve(rules.size());
    for (std::uint32_t r : rules) out.push_back(&kb.interaction(r));
    std::stable_sort(out.begin(), out.end(), [](const auto* x, const auto* y) { return x->severity > y->severity; });
    return RefList<InteractionRule>(std::move(out));
}

RefList<ContraindicationRule> KnowledgeBase::contraindications_for(std::string_view id) const {
    const auto& kb = *impl_;
    std::vector<std::uint32_t> rules;
    if (auto it = kb.substance_index.find(id); it != kb.substance_index.end()) {
        rules = kb.contraindications_by_substance[it->second];
    } else if (auto pt = kb.product_index.find(id); pt != kb.product_index.end()) {
        rules = kb.contraindications_by_product[pt->second];
        for (std::uint32_t s : kb.product_ingredients[pt->second]) {
            const auto& more = kb.contraindications_by_substance[s];
            rules.insert(rules.end(), more.begin(), more.end());
        }
    } else if (auto ct = kb.class_index.find(id); ct != kb.class_index.end()) {
        for (std::uint32_t r = 0; r < kb.contraindication_subject.size(); ++r) {
            const auto& subj = kb.contraindication_subject[r];
            if (subj.kind == EntityKind::Class && subj.index == ct->second) rules.push_back(r);
        }
    } else {
        throw NotFoundError(std::string(id), {}, "substance, product or class");
    }
    std::sort(rules.begin(), rules.end());
    rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
    std::vector<const ContraindicationRule*> out;
    for (auto r : rules) out.push_back(&kb.pack.contraindications[r]);
    std::stable_sort(out.begin(), out.end(), [](const auto* x, const auto* y) { return x->severity > y->severity; });
    return RefList<ContraindicationRule>(std::move(out));
}

std::string KnowledgeBase::to_json() const {
    if (!impl_->encoded_rules) return detail::write_bundled_json(impl_->pack);
    // Rules kept encoded (a snapshot, a single JSON pack): written as they are decoded, one at a
    // time, rather than from a copy of the pack with every rule decoded.
    const detail::EncodedRules& rules = *impl_->encoded_rules;
    return detail::write_bundled_json(impl_->pack, rules.size(), [&rules](std::size_t r, InteractionRule& rule) {
        rules.decode(static_cast<std::uint32_t>(r), rule);
    });
}

}  // namespace rxcaution
