// Integrity of a completely read pack: ids, references, hierarchy cycles, citations (and the
// default grade of a citation that names none: its source's grade). Every problem is gathered
// before throwing, so a curator fixes a pack in one round.

#include "detail/encoded_rules.hpp"
#include "detail/pack_fields.hpp"

#include <rxcaution/errors.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <iterator>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace rxcaution::detail {

namespace {

std::string child(const std::string& pointer, std::string_view key) {
    std::string p = pointer;
    p += '/';
    p += key;
    return p;
}
std::string child(const std::string& pointer, std::size_t index) { return pointer + "/" + std::to_string(index); }

// ^[a-z0-9]+(-[a-z0-9]+)*$ without std::regex, which dominated load time on large packs.
bool is_slug(std::string_view id) {
    if (id.empty() || id.front() == '-' || id.back() == '-') return false;
    char prev = 0;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (c == '-' && prev == '-')) return false;
        prev = c;
    }
    return true;
}

// Cycles of a parent relation (child -> parents), each as "a -> b -> a". The usual answer (no
// cycle) is settled by one topological sort; only a failed sort looks for the cycles to name them,
// one per strongly connected component.
std::vector<std::string> find_cycles(const std::vector<const std::string*>& ids,
                                     const std::vector<const std::vector<std::string>*>& parents) {
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    std::unordered_map<std::string_view, std::size_t> index;
    for (std::size_t i = 0; i < ids.size(); ++i) index.emplace(*ids[i], i);
    Graph g(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        for (const auto& p : *parents[i])
            if (auto it = index.find(p); it != index.end()) boost::add_edge(i, it->second, g);
    try {
        std::vector<std::size_t> order;
        order.reserve(ids.size());
        boost::topological_sort(g, std::back_inserter(order));
        return {};
    } catch (const boost::not_a_dag&) {
    }
    std::vector<std::size_t> component(ids.size());
    const std::size_t n = boost::strong_components(g, component.data());
    std::vector<std::size_t> size(n, 0);
    for (std::size_t c : component) ++size[c];
    std::vector<bool> named(n, false);
    std::vector<std::string> out;
    for (std::size_t start = 0; start < ids.size(); ++start) {
        const std::size_t c = component[start];
        bool self_loop = false;
        for (auto [e, end] = boost::out_edges(start, g); e != end; ++e) self_loop = self_loop || boost::target(*e, g) == start;
        if (named[c] || (size[c] < 2 && !self_loop)) continue;
        named[c] = true;
        // Walk inside the component until a vertex repeats: the walk from there is a cycle.
        std::vector<std::size_t> walk{start};
        std::vector<std::size_t> position(ids.size(), SIZE_MAX);
        position[start] = 0;
        for (;;) {
            std::size_t next = SIZE_MAX;
            for (auto [e, end] = boost::out_edges(walk.back(), g); e != end && next == SIZE_MAX; ++e)
                if (component[boost::target(*e, g)] == c) next = boost::target(*e, g);
            if (next == SIZE_MAX) break;  // cannot happen inside a cycle's component
            if (position[next] != SIZE_MAX) {
                std::string text;
                for (std::size_t k = position[next]; k < walk.size(); ++k) text += *ids[walk[k]] + " -> ";
                out.push_back(text + *ids[next]);
                break;
            }
            position[next] = walk.size();
            walk.push_back(next);
        }
    }
    return out;
}

struct Declared {
    EntityKind kind;
    std::string_view section;
    Origin origin;
};

// The interaction rules of PackData::read_rules: the same checks and messages as for the structs
// (below), on string numbers. The rules name a few thousand distinct ids, each looked up once.
template <class Judge>
void check_read_rules(const PackData& pack, Problems& problems,
                      const std::unordered_map<std::string_view, Declared>& ids, const Judge& judge) {
    const ReadRules& rr = *pack.read_rules;
    const auto file = [&](const Origin& o) -> const std::string& { return pack.origin_files[o.file]; };
    const std::size_t strings = rr.rules->table->size();
    std::vector<const Declared*> found(strings, nullptr);
    std::vector<std::uint8_t> looked(strings, 0);
    auto declared = [&](std::uint32_t n) {
        if (!looked[n]) {
            looked[n] = 1;
            auto it = ids.find(rr.text(n));
            found[n] = it == ids.end() ? nullptr : &it->second;
        }
        return found[n];
    };
    for (std::size_t i = 0; i < rr.size(); ++i) {
        const RuleHead& x = rr.heads[i];
        const auto& o = pack.interaction_origins[i];
        auto ptr = [&] { return child(PackData::pointer("interactions", o), "participants"); };
        judge(rr.text(x.first_id), declared(x.first_id), x.first_kind, file(o), [&] { return child(ptr(), 0); });
        judge(rr.text(x.second_id), declared(x.second_id), x.second_kind, file(o), [&] { return child(ptr(), 1); });
        if (x.first_kind == x.second_kind && x.first_id == x.second_id && x.first_kind == EntityKind::Substance)
            problems.add(file(o), ptr(), "a substance cannot interact with itself");
    }
    if (rr.supersedes.empty()) return;
    // Ids are interned: a superseded id names a rule when its string number is a rule's id.
    std::vector<std::uint8_t> is_rule(strings, 0);
    for (std::uint32_t id : rr.rules->ids) is_rule[id] = 1;
    for (std::size_t i = 0; i < rr.size(); ++i) {
        const std::uint32_t begin = rr.supersedes_begin[i], end = rr.supersedes_begin[i + 1];
        if (begin == end) continue;
        const auto& o = pack.interaction_origins[i];
        const std::string ptr = child(PackData::pointer("interactions", o), "supersedes");
        for (std::uint32_t k = begin; k < end; ++k) {
            const std::uint32_t s = rr.supersedes[k];
            if (!is_rule[s])
                problems.add(file(o), child(ptr, k - begin), "unknown interaction rule \"" + std::string(rr.text(s)) + "\"");
            else if (s == rr.rules->ids[i])
                problems.add(file(o), child(ptr, k - begin), "a rule cannot supersede itself");
        }
    }
}

void check_ids_and_references(const PackData& pack, Problems& problems, const std::string& pack_file) {
    const auto file = [&](const Origin& o) -> const std::string& { return pack.origin_files[o.file]; };
    // Ids: well-formed and unique across every entity kind.
    std::unordered_map<std::string_view, Declared> ids;
    ids.reserve(pack.substances.size() + pack.products.size() + pack.classes.size() + pack.conditions.size() +
                pack.treatments.size());
    // Pointers are built only for a problem: a large pack has hundreds of thousands of entities.
    const auto id_of = [](std::string_view section, const Origin& o) { return child(PackData::pointer(section, o), "id"); };
    auto declare = [&](const std::string& id, EntityKind kind, std::string_view section, const Origin& o) {
        if (!is_slug(id))
            problems.add(file(o), id_of(section, o),
                         "id \"" + id + "\" is not a lowercase slug ([a-z0-9]+ joined by single hyphens)");
        auto [it, inserted] = ids.emplace(id, Declared{kind, section, o});
        if (!inserted)
            problems.add(file(o), id_of(section, o),
                         "duplicate id \"" + id + "\" (" + std::string(to_string(kind)) + "; first defined at " +
                             pack.where(it->second.section, it->second.origin) + ")");
    };
    {
        std::unordered_map<std::string_view, std::size_t> sources;
        for (std::size_t i = 0; i < pack.sources.size(); ++i) {
            const auto& s = pack.sources[i];
            const auto& o = pack.source_origins[i];
            if (!is_slug(s.id)) problems.add(file(o), id_of("sources", o), "id \"" + s.id + "\" is not a lowercase slug");
            auto [it, inserted] = sources.emplace(s.id, i);
            if (!inserted)
                problems.add(file(o), id_of("sources", o),
                             "duplicate source id \"" + s.id + "\" (first defined at " +
                                 pack.where("sources", pack.source_origins[it->second]) + ")");
        }
    }
    for (std::size_t i = 0; i < pack.substances.size(); ++i)
        declare(pack.substances[i].id, EntityKind::Substance, "substances", pack.substance_origins[i]);
    for (std::size_t i = 0; i < pack.products.size(); ++i)
        declare(pack.products[i].id, EntityKind::Product, "products", pack.product_origins[i]);
    for (std::size_t i = 0; i < pack.classes.size(); ++i)
        declare(pack.classes[i].id, EntityKind::Class, "classes", pack.class_origins[i]);
    for (std::size_t i = 0; i < pack.conditions.size(); ++i)
        declare(pack.conditions[i].id, EntityKind::Condition, "conditions", pack.condition_origins[i]);
    for (std::size_t i = 0; i < pack.treatments.size(); ++i)
        declare(pack.treatments[i].id, EntityKind::Treatment, "treatments", pack.treatment_origins[i]);
    {
        std::unordered_map<std::string_view, std::pair<std::string_view, Origin>> rule_ids;
        rule_ids.reserve(pack.interactions.size() + pack.contraindications.size());
        auto rule = [&](std::string_view id, std::string_view section, const Origin& o) {
            if (!is_slug(id))
                problems.add(file(o), id_of(section, o), "id \"" + std::string(id) + "\" is not a lowercase slug");
            auto [it, inserted] = rule_ids.emplace(id, std::make_pair(section, o));
            if (!inserted)
                problems.add(file(o), id_of(section, o),
                             "duplicate rule id \"" + std::string(id) + "\" (first defined at " +
                                 pack.where(it->second.first, it->second.second) + ")");
        };
        if (pack.read_rules) {
            // Interned ids: a repeated id is a repeated string number. Only the ids that a
            // contraindication or cumulative rule also uses go into rule_ids.
            const ReadRules& rr = *pack.read_rules;
            std::unordered_set<std::string_view> later;
            for (const auto& x : pack.contraindications) later.insert(x.id);
            for (const auto& x : pack.cumulative_rules) later.insert(x.id);
            std::vector<std::uint32_t> first(rr.rules->table->size(), 0xFFFFFFFFu);
            for (std::uint32_t i = 0; i < rr.size(); ++i) {
                const std::string_view id = rr.id(i);
                const Origin& o = pack.interaction_origins[i];
                if (!is_slug(id))
                    problems.add(file(o), id_of("interactions", o), "id \"" + std::string(id) + "\" is not a lowercase slug");
                std::uint32_t& seen = first[rr.rules->ids[i]];
                if (seen != 0xFFFFFFFFu) {
                    problems.add(file(o), id_of("interactions", o),
                                 "duplicate rule id \"" + std::string(id) + "\" (first defined at " +
                                     pack.where("interactions", pack.interaction_origins[seen]) + ")");
                    continue;
                }
                seen = i;
                if (!later.empty() && later.count(id)) rule_ids.emplace(id, std::make_pair(std::string_view("interactions"), o));
            }
        }
        for (std::size_t i = 0; i < pack.interactions.size(); ++i)
            rule(pack.interactions[i].id, "interactions", pack.interaction_origins[i]);
        for (std::size_t i = 0; i < pack.contraindications.size(); ++i)
            rule(pack.contraindications[i].id, "contraindications", pack.contraindication_origins[i]);
        for (std::size_t i = 0; i < pack.cumulative_rules.size(); ++i)
            rule(pack.cumulative_rules[i].id, "cumulative_rules", pack.cumulative_origins[i]);
    }

    // `where` gives the pointer, called only when there is a problem.
    // What an id names (nullptr: nothing), and the problem of naming it as a `kind`.
    auto judge = [&](std::string_view id, const Declared* found, EntityKind kind, const std::string& f, const auto& where) {
        if (!found) {
            problems.add(f, where(), std::string("unknown ") + std::string(to_string(kind)) + " \"" + std::string(id) + "\"");
        } else if (found->kind != kind) {
            problems.add(f, where(), "\"" + std::string(id) + "\" is a " + std::string(to_string(found->kind)) +
                                         ", expected a " + std::string(to_string(kind)));
        }
    };
    auto expect = [&](std::string_view id, EntityKind kind, const std::string& f, const auto& where) {
        auto it = ids.find(id);
        judge(id, it == ids.end() ? nullptr : &it->second, kind, f, where);
    };

    // References.
    for (std::size_t i = 0; i < pack.products.size(); ++i) {
        const auto& o = pack.product_origins[i];
        for (std::size_t k = 0; k < pack.products[i].ingredients.size(); ++k)
            expect(pack.products[i].ingredients[k], EntityKind::Substance, file(o),
                   [&] { return child(child(PackData::pointer("products", o), "ingredients"), k); });
    }
    std::vector<const std::string*> hierarchy_ids;
    std::vector<const std::vector<std::string>*> hierarchy_parents;
    for (std::size_t i = 0; i < pack.classes.size(); ++i) {
        const auto& c = pack.classes[i];
        const auto& o = pack.class_origins[i];
        const std::string ptr = PackData::pointer("classes", o);
        for (std::size_t k = 0; k < c.parents.size(); ++k)
            expect(c.parents[k], EntityKind::Class, file(o), [&] { return child(child(ptr, "parents"), k); });
        std::set<std::string_view> seen;
        for (std::size_t k = 0; k < c.members.size(); ++k) {
            auto mp = [&] { return child(child(child(ptr, "members"), k), "substance"); };
            expect(c.members[k].substance, EntityKind::Substance, file(o), mp);
            if (!seen.insert(c.members[k].substance).second)
                problems.add(file(o), mp(),
                             "\"" + c.members[k].substance + "\" is listed twice in class \"" + c.id + "\"");
        }
        hierarchy_ids.push_back(&c.id);
        hierarchy_parents.push_back(&c.parents);
    }
    for (const auto& cycle : find_cycles(hierarchy_ids, hierarchy_parents))
        problems.add(pack_file, "/classes", "class hierarchy has a cycle: " + cycle);

    hierarchy_ids.clear();
    hierarchy_parents.clear();
    for (std::size_t i = 0; i < pack.conditions.size(); ++i) {
        const auto& c = pack.conditions[i];
        const auto& o = pack.condition_origins[i];
        for (std::size_t k = 0; k < c.parents.size(); ++k)
            expect(c.parents[k], EntityKind::Condition, file(o),
                   [&] { return child(child(PackData::pointer("conditions", o), "parents"), k); });
        hierarchy_ids.push_back(&c.id);
        hierarchy_parents.push_back(&c.parents);
    }
    for (const auto& cycle : find_cycles(hierarchy_ids, hierarchy_parents))
        problems.add(pack_file, "/conditions", "condition hierarchy has a cycle: " + cycle);

    if (pack.read_rules) check_read_rules(pack, problems, ids, judge);
    for (std::size_t i = 0; i < pack.interactions.size(); ++i) {
        const auto& x = pack.interactions[i];
        const auto& o = pack.interaction_origins[i];
        auto ptr = [&] { return child(PackData::pointer("interactions", o), "participants"); };
        expect(x.first.id, x.first.kind, file(o), [&] { return child(ptr(), 0); });
        expect(x.second.id, x.second.kind, file(o), [&] { return child(ptr(), 1); });
        if (x.first.kind == x.second.kind && x.first.id == x.second.id && x.first.kind == EntityKind::Substance)
            problems.add(file(o), ptr(), "a substance cannot interact with itself");
    }
    const bool any_supersedes = std::any_of(pack.interactions.begin(), pack.interactions.end(),
                                            [](const InteractionRule& x) { return !x.supersedes.empty(); });
    if (any_supersedes) {
        std::unordered_set<std::string_view> interaction_ids;
        for (const auto& x : pack.interactions) interaction_ids.insert(x.id);
        for (std::size_t i = 0; i < pack.interactions.size(); ++i) {
            const auto& x = pack.interactions[i];
            if (x.supersedes.empty()) continue;
            const auto& o = pack.interaction_origins[i];
            const std::string ptr = child(PackData::pointer("interactions", o), "supersedes");
            for (std::size_t k = 0; k < x.supersedes.size(); ++k) {
                if (!interaction_ids.count(x.supersedes[k]))
                    problems.add(file(o), child(ptr, k), "unknown interaction rule \"" + x.supersedes[k] + "\"");
                else if (x.supersedes[k] == x.id)
                    problems.add(file(o), child(ptr, k), "a rule cannot supersede itself");
            }
        }
    }
    for (std::size_t i = 0; i < pack.contraindications.size(); ++i) {
        const auto& x = pack.contraindications[i];
        const auto& o = pack.contraindication_origins[i];
        expect(x.subject.id, x.subject.kind, file(o),
               [&] { return child(PackData::pointer("contraindications", o), "subject"); });
        expect(x.condition, EntityKind::Condition, file(o),
               [&] { return child(PackData::pointer("contraindications", o), "condition"); });
    }
    for (std::size_t i = 0; i < pack.cumulative_rules.size(); ++i) {
        const auto& x = pack.cumulative_rules[i];
        const auto& o = pack.cumulative_origins[i];
        const std::string ptr = PackData::pointer("cumulative_rules", o);
        // A check keeps one bit per requirement; more than 8 would be a different kind of rule.
        if (x.requirements.empty() || x.requirements.size() > 8)
            problems.add(file(o), child(ptr, "requires"),
                         "a cumulative rule needs 1 to 8 requirements, got " + std::to_string(x.requirements.size()));
        for (std::size_t k = 0; k < x.requirements.size(); ++k) {
            const auto& q = x.requirements[k];
            auto where = [&] { return child(child(child(ptr, "requires"), k), "member"); };
            if (q.member.kind != EntityKind::Class && q.member.kind != EntityKind::Substance)
                problems.add(file(o), where(), "a requirement names a class or a substance, not a " +
                                                   std::string(to_string(q.member.kind)));
            else expect(q.member.id, q.member.kind, file(o), where);
        }
        for (std::size_t k = 0; k < x.conditions.size(); ++k)
            expect(x.conditions[k], EntityKind::Condition, file(o), [&] { return child(child(ptr, "conditions"), k); });
        for (std::size_t k = 0; k < x.dose_thresholds.size(); ++k)
            expect(x.dose_thresholds[k].substance, EntityKind::Substance, file(o),
                   [&] { return child(child(child(ptr, "dose_thresholds"), k), "substance"); });
    }
    for (std::size_t i = 0; i < pack.treatments.size(); ++i) {
        const auto& t = pack.treatments[i];
        const auto& o = pack.treatment_origins[i];
        const std::string ptr = PackData::pointer("treatments", o);
        for (std::size_t k = 0; k < t.substances.size(); ++k)
            expect(t.substances[k], EntityKind::Substance, file(o), [&] { return child(child(ptr, "substances"), k); });
        for (std::size_t k = 0; k < t.treats.size(); ++k)
            expect(t.treats[k], EntityKind::Condition, file(o), [&] { return child(child(ptr, "treats"), k); });
        for (std::size_t k = 0; k < t.complements.size(); ++k)
            expect(t.complements[k], EntityKind::Treatment, file(o), [&] { return child(child(ptr, "complements"), k); });
    }
    for (std::size_t i = 0; i < pack.profiles.size(); ++i)
        expect(pack.profiles[i].substance, EntityKind::Substance, file(pack.profile_origins[i]),
               [&] { return child(PackData::pointer("profiles", pack.profile_origins[i]), "substance"); });
}

// Fills default citation grades (the one place they are filled) and checks that cited sources
// exist and that no rule claims better evidence than its citations carry (an "unverified fact
// presented as established").
void check_citations(PackData& pack, Problems& problems) {
    std::unordered_map<std::string_view, EvidenceGrade> source_grade;
    for (const auto& s : pack.sources) source_grade.emplace(s.id, s.grade);
    std::unordered_set<const Citation*> dangling;
    // Rules read encoded: their citations by number, a grade filled in the record's grade byte too.
    ReadRules* rr = pack.read_rules.get();
    std::vector<std::uint8_t> dangling_read(rr ? rr->citations.size() : 0, 0);
    std::vector<std::int8_t> grade_of_string;  // per string number: -2 not looked up, -1 unknown
    if (rr) grade_of_string.assign(rr->rules->table->size(), -2);
    for_each_citation(
        pack,
        [&](Citation& c, const std::string& file, const std::string& pointer) {
            auto it = source_grade.find(c.source);
            if (it == source_grade.end()) {
                dangling.insert(&c);
                problems.add(file, child(pointer, "source"), "unknown source \"" + c.source + "\"");
            } else if (c.grade == kGradeFromSource) {
                c.grade = it->second;
            }
        },
        [&](std::size_t r, const std::string& file, const std::string& pointer) {
            for (std::uint32_t k = rr->citations_begin[r]; k < rr->citations_begin[r + 1]; ++k) {
                RuleCitation& c = rr->citations[k];
                std::int8_t& g = grade_of_string[c.source];
                if (g == -2) {
                    auto it = source_grade.find(rr->text(c.source));
                    g = it == source_grade.end() ? -1 : static_cast<std::int8_t>(it->second);
                }
                if (g == -1) {
                    dangling_read[k] = 1;
                    problems.add(file, child(child(child(pointer, "sources"), k - rr->citations_begin[r]), "source"),
                                 "unknown source \"" + std::string(rr->text(c.source)) + "\"");
                } else if (c.grade == kGradeFromSource) {
                    c.grade = static_cast<EvidenceGrade>(g);
                    rr->rules->records[c.grade_at] = static_cast<char>(static_cast<std::uint8_t>(c.grade));
                }
            }
        });
    // A rule's evidence against its best citation: struct and encoded rules alike.
    auto grade_problems = [&](EvidenceGrade claimed, EvidenceGrade best, std::string_view section, const Origin& o) {
        const std::string ptr = PackData::pointer(section, o);
        if (claimed < best)
            problems.add(pack.origin_files[o.file], child(ptr, "evidence"),
                         "evidence \"" + std::string(to_string(claimed)) + "\" is stronger than any citation (best: " +
                             std::string(to_string(best)) + ")");
        if (best == EvidenceGrade::Weak)
            problems.add(pack.origin_files[o.file], child(ptr, "sources"), "a rule cannot rest on weak sources only");
    };
    auto check_rule = [&](const std::vector<Citation>& cits, EvidenceGrade claimed, std::string_view section,
                          const Origin& o) {
        if (cits.empty()) return;
        for (const auto& c : cits)
            if (dangling.count(&c)) return;  // already reported; its grade is unknown
        EvidenceGrade best = EvidenceGrade::Derived;
        for (const auto& c : cits) best = std::min(best, c.grade);
        grade_problems(claimed, best, section, o);
    };
    for (std::size_t i = 0; i < pack.interactions.size(); ++i)
        check_rule(pack.interactions[i].sources, pack.interactions[i].evidence, "interactions",
                   pack.interaction_origins[i]);
    for (std::size_t i = 0; rr && i < rr->size(); ++i) {
        // check_rule, on the rule's citations by number.
        const std::uint32_t begin = rr->citations_begin[i], end = rr->citations_begin[i + 1];
        if (begin == end) continue;
        bool known = true;
        EvidenceGrade best = EvidenceGrade::Derived;
        for (std::uint32_t k = begin; k < end; ++k) {
            known = known && !dangling_read[k];
            best = std::min(best, rr->citations[k].grade);
        }
        if (!known) continue;
        grade_problems(rr->heads[i].evidence, best, "interactions", pack.interaction_origins[i]);
    }
    // Class membership drives class rules, so it needs the same footing as a rule.
    for (std::size_t c = 0; c < pack.classes.size(); ++c) {
        const auto& cls = pack.classes[c];
        for (std::size_t m = 0; m < cls.members.size(); ++m) {
            const auto& cits = cls.members[m].sources;
            if (cits.empty()) continue;
            bool known = true, strong = false;
            for (const auto& cit : cits) {
                known = known && !dangling.count(&cit);
                strong = strong || cit.grade != EvidenceGrade::Weak;
            }
            if (known && !strong)
                problems.add(pack.origin_files[pack.class_origins[c].file],
                             child(child(child(PackData::pointer("classes", pack.class_origins[c]), "members"), m),
                                   "sources"),
                             "membership of \"" + cls.members[m].substance + "\" in class \"" + cls.id +
                                 "\" rests on weak sources only");
        }
    }
    for (std::size_t i = 0; i < pack.contraindications.size(); ++i)
        check_rule(pack.contraindications[i].sources, pack.contraindications[i].evidence, "contraindications",
                   pack.contraindication_origins[i]);
    for (std::size_t i = 0; i < pack.cumulative_rules.size(); ++i)
        check_rule(pack.cumulative_rules[i].sources, pack.cumulative_rules[i].evidence, "cumulative_rules",
                   pack.cumulative_origins[i]);
}

}  // namespace

void check_pack(PackData& pack, Problems& problems, const std::string& pack_file) {
    check_ids_and_references(pack, problems, pack_file);
    check_citations(pack, problems);
    if (!problems.list.empty()) throw IntegrityError(pack_file, problems.list);
    count_entities(pack);
}

std::size_t PackData::interaction_count() const { return read_rules ? read_rules->size() : interactions.size(); }

void count_entities(PackData& pack) {
    auto& info = pack.info;
    info.substances = pack.substances.size();
    info.products = pack.products.size();
    info.classes = pack.classes.size();
    info.class_memberships = 0;
    for (const auto& c : pack.classes) info.class_memberships += c.members.size();
    info.conditions = pack.conditions.size();
    info.interactions = pack.interaction_count();
    info.contraindications = pack.contraindications.size();
    info.treatments = pack.treatments.size();
    info.sources = pack.sources.size();
}

}  // namespace rxcaution::detail
