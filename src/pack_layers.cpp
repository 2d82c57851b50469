// Merging packs into one layered pack (see detail/pack_layers.hpp). The merge works on the parsed
// structs, before compiling, so that the compiled graph, the name tables and check() are exactly
// those of a single pack; only the rule layers tell the compiler which rules lead.

#include "detail/impl.hpp"
#include "detail/pack_layers.hpp"

#include <rxcaution/errors.hpp>

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace rxcaution::detail {

namespace {

PackLayer describe(const PackData& p) {
    PackLayer l;
    l.name = p.info.name;
    l.version = p.info.version;
    l.licence = p.info.licence;
    l.origin = p.info.origin;
    l.substances = p.substances.size();
    l.interactions = p.interaction_count();
    return l;
}

// Every name a substance answers to, normalised: its id, name, synonyms and salt forms.
std::vector<std::string> substance_names(const Substance& s, bool with_id = true) {
    std::vector<std::string> out;
    auto add = [&](const std::string& text) {
        std::string key = normalize_name(text);
        if (!key.empty() && std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
    };
    if (with_id) add(s.id);
    add(s.name);
    for (const auto& syn : s.synonyms) add(syn);
    for (const auto& salt : s.salts) add(s.name + " " + salt);
    return out;
}

std::vector<std::string> identifier_keys(const Substance& s) {
    std::vector<std::string> out;
    if (!s.identifiers.drugbank.empty()) out.push_back("drugbank:" + s.identifiers.drugbank);
    if (!s.identifiers.unii.empty()) out.push_back("unii:" + s.identifiers.unii);
    if (!s.identifiers.rxcui.empty()) out.push_back("rxcui:" + s.identifiers.rxcui);
    return out;
}

std::string kind_of(const Substance& s) { return s.kind.empty() ? "drug" : s.kind; }

// Why two substances with the same id are not the same thing, or "" when they may be.
std::string meaning_conflict(const Substance& a, const Substance& b) {
    const std::pair<const char*, const std::string Identifiers::*> ids[] = {
        {"DrugBank id", &Identifiers::drugbank}, {"UNII", &Identifiers::unii}, {"RxCUI", &Identifiers::rxcui}};
    for (const auto& [label, member] : ids) {
        const std::string& x = a.identifiers.*member;
        const std::string& y = b.identifiers.*member;
        if (!x.empty() && !y.empty() && x != y) return std::string(label) + " " + x + " vs " + y;
    }
    if (kind_of(a) != kind_of(b)) return "kind " + kind_of(a) + " vs " + kind_of(b);
    // b's own id is left out: the shared id is the question, not the answer.
    const auto na = substance_names(a);
    for (const auto& n : substance_names(b, false))
        if (std::find(na.begin(), na.end(), n) != na.end()) return {};
    return "no name in common (\"" + a.name + "\" vs \"" + b.name + "\")";
}

class Merger {
public:
    explicit Merger(PackData first) : out_(std::move(first)) {
        out_.info.layers = {describe(out_)};
        out_.interaction_layers.assign(out_.interactions.size(), 0);
        for (std::uint32_t i = 0; i < out_.substances.size(); ++i) index_substance(i);
        for (const auto& p : out_.products) {
            taken_.insert(normalize_name(p.id));
            taken_.insert(normalize_name(p.name));
            for (const auto& syn : p.synonyms) taken_.insert(normalize_name(syn));
        }
        note_origins(out_);
        build_index(out_.sources, sources_);
        build_index(out_.conditions, conditions_);
        build_index(out_.classes, classes_);
        build_index(out_.products, products_);
        build_index(out_.interactions, interactions_);
        build_index(out_.contraindications, contraindications_);
        build_index(out_.cumulative_rules, cumulative_);
        build_index(out_.treatments, treatments_);
    }

    void add(PackData layer) {
        const auto k = static_cast<std::uint16_t>(out_.info.layers.size());
        PackLayer info = describe(layer);
        std::unordered_map<std::string, std::string> rename;  // layer substance id -> merged id
        for (auto& s : layer.substances) merge_substance(std::move(s), info, layer.info.origin, rename);
        auto sub = [&](const std::string& id) -> const std::string& {
            auto it = rename.find(id);
            return it == rename.end() ? id : it->second;
        };
        auto part = [&](Participant& p) {
            if (p.kind == EntityKind::Substance) p.id = sub(p.id);
        };

        for (auto& s : layer.sources) {
            if (auto* old = find(out_.sources, sources_, s.id)) {
                if (old->title != s.title)
                    conflict(layer.info.origin, "source", s.id, "\"" + old->title + "\" vs \"" + s.title + "\"");
                continue;  // the same source cited by both packs
            }
            push(out_.sources, sources_, std::move(s), layer.info.origin);
        }
        for (auto& c : layer.conditions) {
            if (auto* old = find(out_.conditions, conditions_, c.id)) {
                if (normalize_name(old->name) != normalize_name(c.name))
                    conflict(layer.info.origin, "condition", c.id, "\"" + old->name + "\" vs \"" + c.name + "\"");
                continue;
            }
            push(out_.conditions, conditions_, std::move(c), layer.info.origin);
        }
        for (auto& c : layer.classes) {
            for (auto& m : c.members) m.substance = sub(m.substance);
            if (find(out_.classes, classes_, c.id)) {
                conflict(layer.info.origin, "class", c.id, "a class id already used");
                continue;
            }
            push(out_.classes, classes_, std::move(c), layer.info.origin);
        }
        for (auto& p : layer.products) {
            for (auto& ing : p.ingredients) ing = sub(ing);
            for (auto& ii : p.inactive_ingredients) ii.substance = sub(ii.substance);
            if (find(out_.products, products_, p.id)) {
                conflict(layer.info.origin, "product", p.id, "a product id already used");
                continue;
            }
            push(out_.products, products_, std::move(p), layer.info.origin);
        }
        for (auto& r : layer.interactions) {
            part(r.first);
            part(r.second);
            if (find(out_.interactions, interactions_, r.id)) {
                conflict(layer.info.origin, "interaction rule", r.id, "a rule id already used");
                continue;
            }
            push(out_.interactions, interactions_, std::move(r), layer.info.origin);
            out_.interaction_layers.push_back(k);
        }
        for (auto& r : layer.contraindications) {
            part(r.subject);
            if (find(out_.contraindications, contraindications_, r.id)) {
                conflict(layer.info.origin, "contraindication rule", r.id, "a rule id already used");
                continue;
            }
            push(out_.contraindications, contraindications_, std::move(r), layer.info.origin);
        }
        // Cumulative rules of every layer are kept, over the merged substances; an id is one rule.
        for (auto& r : layer.cumulative_rules) {
            for (auto& q : r.requirements) part(q.member);
            for (auto& t : r.dose_thresholds) t.substance = sub(t.substance);
            if (find(out_.cumulative_rules, cumulative_, r.id)) {
                conflict(layer.info.origin, "cumulative rule", r.id, "a rule id already used");
                continue;
            }
            push(out_.cumulative_rules, cumulative_, std::move(r), layer.info.origin);
        }
        for (auto& t : layer.treatments) {
            for (auto& s : t.substances) s = sub(s);
            if (find(out_.treatments, treatments_, t.id)) {
                conflict(layer.info.origin, "treatment", t.id, "a treatment id already used");
                continue;
            }
            push(out_.treatments, treatments_, std::move(t), layer.info.origin);
        }
        // A substance keeps the profile of the highest-priority pack that has one.
        for (auto& p : layer.profiles) {
            p.substance = sub(p.substance);
            bool have = false;
            for (const auto& q : out_.profiles) have = have || q.substance == p.substance;
            if (!have) out_.profiles.push_back(std::move(p));
        }
        out_.info.layers.push_back(std::move(info));
    }

    PackData finish() {
        if (!problems_.empty()) {
            std::string files;
            for (const auto& l : out_.info.layers) files += (files.empty() ? "" : " + ") + l.origin;
            throw IntegrityError(files, problems_);
        }
        auto& info = out_.info;
        std::string name, version, licence, origin;
        for (const auto& l : info.layers) {
            const bool first = name.empty();
            name += (first ? "" : " + ") + l.name;
            version += (first ? "" : " + ") + l.version;
            licence += (first ? "" : "; ") + l.name + ": " + l.licence;
            origin += (first ? "" : " + ") + l.origin;
        }
        info.name = std::move(name);
        info.version = std::move(version);
        info.licence = std::move(licence);
        info.origin = std::move(origin);
        info.description = "Layered knowledge base (first pack leads): " + info.name;
        count_entities(out_);
        return std::move(out_);
    }

private:
    template <class V>  // a std::vector or a Section of entities
    static void build_index(const V& items, std::unordered_map<std::string, std::uint32_t>& index) {
        for (std::uint32_t i = 0; i < items.size(); ++i) index.emplace(items[i].id, i);
    }
    template <class V>
    typename V::value_type* find(V& items, std::unordered_map<std::string, std::uint32_t>& index, const std::string& id) {
        auto it = index.find(id);
        return it == index.end() ? nullptr : &items[it->second];
    }
    template <class V>
    void push(V& items, std::unordered_map<std::string, std::uint32_t>& index, typename V::value_type item,
              const std::string& origin) {
        index.emplace(item.id, static_cast<std::uint32_t>(items.size()));
        owner_[item.id] = origin;
        items.push_back(std::move(item));
    }
    void note_origins(const PackData& p) {
        for (const auto& x : p.sources) owner_[x.id] = p.info.origin;
        for (const auto& x : p.substances) owner_[x.id] = p.info.origin;
        for (const auto& x : p.classes) owner_[x.id] = p.info.origin;
        for (const auto& x : p.products) owner_[x.id] = p.info.origin;
        for (const auto& x : p.conditions) owner_[x.id] = p.info.origin;
        for (const auto& x : p.interactions) owner_[x.id] = p.info.origin;
        for (const auto& x : p.contraindications) owner_[x.id] = p.info.origin;
        for (const auto& x : p.cumulative_rules) owner_[x.id] = p.info.origin;
        for (const auto& x : p.treatments) owner_[x.id] = p.info.origin;
    }
    void conflict(const std::string& origin, const char* what, const std::string& id, const std::string& why) {
        auto it = owner_.find(id);
        const std::string other = it == owner_.end() ? std::string("an earlier pack") : it->second;
        problems_.push_back(origin + ": " + what + " '" + id + "' is also defined by " + other +
                            " with a different meaning (" + why + ")");
    }

    void index_substance(std::uint32_t i) {
        const Substance& s = out_.substances[i];
        substance_ids_.emplace(s.id, i);
        for (auto& key : identifier_keys(s)) by_identifier_[key].push_back(i);
        for (auto& key : substance_names(s)) {
            auto& list = by_name_[key];
            if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
            taken_.insert(key);
        }
    }

    // Candidates found through `keys` in `index`, each once.
    static std::vector<std::uint32_t> lookup(const std::unordered_map<std::string, std::vector<std::uint32_t>>& index,
                                             const std::vector<std::string>& keys) {
        std::vector<std::uint32_t> out;
        for (const auto& key : keys)
            if (auto it = index.find(key); it != index.end())
                for (auto i : it->second)
                    if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
        return out;
    }

    // The layer's names become synonyms of the substance they unified with, where no other entity
    // answers to them, so that either pack's spelling finds it.
    void adopt_names(std::uint32_t target, const Substance& s) {
        Substance& t = out_.substances[target];
        for (const std::string* text : [&] {
                 std::vector<const std::string*> v{&s.name};
                 for (const auto& syn : s.synonyms) v.push_back(&syn);
                 return v;
             }()) {
            const std::string key = normalize_name(*text);
            if (key.empty() || taken_.count(key)) continue;
            t.synonyms.push_back(*text);
            taken_.insert(key);
            by_name_[key].push_back(target);
        }
    }

    void merge_substance(Substance s, PackLayer& info, const std::string& origin,
                         std::unordered_map<std::string, std::string>& rename) {
        if (auto it = substance_ids_.find(s.id); it != substance_ids_.end()) {
            const std::string why = meaning_conflict(out_.substances[it->second], s);
            if (!why.empty()) {
                conflict(origin, "substance", s.id, why);
                return;
            }
            ++info.unified_by_id;
            adopt_names(it->second, s);
            return;
        }
        auto unify = [&](std::uint32_t target, std::size_t& counter) {
            ++counter;
            rename[s.id] = out_.substances[target].id;
            adopt_names(target, s);
        };
        const auto by_identifier = lookup(by_identifier_, identifier_keys(s));
        if (by_identifier.size() == 1) return unify(by_identifier[0], info.unified_by_identifier);
        bool ambiguous = by_identifier.size() > 1;
        if (!ambiguous) {
            const auto by_name = lookup(by_name_, substance_names(s));
            if (by_name.size() == 1) return unify(by_name[0], info.unified_by_name);
            ambiguous = by_name.size() > 1;
        }
        // Kept as a substance of its own. Names another entity already answers to stay with that
        // entity; a primary name that is taken gets the pack's name added, so it stays readable.
        std::erase_if(s.synonyms, [&](const std::string& syn) { return taken_.count(normalize_name(syn)) > 0; });
        if (taken_.count(normalize_name(s.name))) {
            s.name += " (" + info.name + ")";
            ambiguous = true;
        }
        ++(ambiguous ? info.ambiguous : info.added);
        owner_[s.id] = origin;
        out_.substances.push_back(std::move(s));
        index_substance(static_cast<std::uint32_t>(out_.substances.size() - 1));
    }

    PackData out_;
    std::vector<std::string> problems_;
    std::unordered_map<std::string, std::string> owner_;  // id -> origin of the pack that defined it
    std::unordered_map<std::string, std::uint32_t> substance_ids_, sources_, conditions_, classes_, products_,
        interactions_, contraindications_, cumulative_, treatments_;
    std::unordered_map<std::string, std::vector<std::uint32_t>> by_identifier_, by_name_;
    std::unordered_set<std::string> taken_;  // every normalised name of a merged substance or product
};

}  // namespace

void set_single_layer(PackData& pack) {
    pack.info.layers = {describe(pack)};
    pack.interaction_layers.clear();
}

PackData merge_layers(std::vector<PackData> layers) {
    if (layers.empty()) throw DataError("<layers>", "no pack to load: give at least one");
    if (layers.size() > 0xFFFF) throw DataError("<layers>", "too many packs to layer");
    Merger merger(std::move(layers[0]));
    for (std::size_t k = 1; k < layers.size(); ++k) merger.add(std::move(layers[k]));
    return merger.finish();
}

}  // namespace rxcaution::detail
