// The integer core of a regimen check (see detail/regimen_eval.hpp). Moved here unchanged from
// check.cpp so that check() and screen() run the same code.

#include "detail/regimen_eval.hpp"

#include <algorithm>
#include <tuple>

namespace rxcaution::detail {

namespace {

// Small per-pair sets: the few rules that already fired for one input pair.
bool contains(const std::vector<std::uint64_t>& v, std::uint64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::uint64_t tag(std::uint32_t kind, std::uint32_t rule) { return (static_cast<std::uint64_t>(kind) << 32) | rule; }

using Hit = PairHit;

}  // namespace

void evaluate_regimen(const KnowledgeBaseImpl& kb, const RegimenView& regimen, const EvalOptions& options,
                      EvalScratch& sc, std::vector<Warning>& warnings, std::vector<std::uint32_t>& superseded,
                      std::vector<Implicated>& implicated) {
    const std::size_t n = regimen.n;
    const IngredientSpan* ing = regimen.ing;
    const auto& pack = kb.pack;
    auto& fired = sc.fired;  // (kind, rule) already reported for the current input pair
    fired.clear();

    bool any_supersedes = false;
    auto push_interaction = [&](std::uint32_t r, Severity severity, EvidenceGrade evidence, std::size_t i, std::size_t j,
                                std::uint32_t a, std::uint32_t b) {
        Warning w;
        w.kind = WarningKind::DrugDrug;
        w.severity = severity;
        w.evidence = evidence;
        w.rule = r;
        w.input_a = static_cast<std::uint32_t>(i);
        w.input_b = static_cast<std::uint32_t>(j);
        w.substance_a = a;
        w.substance_b = b;
        warnings.push_back(w);
    };
    auto add_interaction = [&](std::uint32_t r, std::size_t i, std::size_t j, std::uint32_t a, std::uint32_t b) {
        const auto facts = kb.interaction_facts[r];
        if (facts.severity < options.min_severity) return;
        any_supersedes = any_supersedes || !kb.rule_supersedes[r].empty();
        push_interaction(r, facts.severity, facts.evidence, i, j, a, b);
    };
    auto add_class_duplicate = [&](std::uint32_t c, std::size_t i, std::size_t j, std::uint32_t a, std::uint32_t b) {
        const DrugClass& cls = pack.classes[c];
        if (cls.duplicate_therapy->severity < options.min_severity) return;
        if (contains(fired, tag(3, c))) return;
        fired.push_back(tag(3, c));
        Warning w;
        w.kind = WarningKind::DuplicateTherapy;
        w.severity = cls.duplicate_therapy->severity;
        w.evidence = EvidenceGrade::Secondary;
        for (const auto& cit : cls.duplicate_therapy->sources) w.evidence = std::min(w.evidence, cit.grade);
        w.rule = c;
        w.input_a = static_cast<std::uint32_t>(i);
        w.input_b = static_cast<std::uint32_t>(j);
        w.substance_a = a;
        w.substance_b = b == a ? kNone : b;
        warnings.push_back(w);
    };

    // The same substance in two inputs: a duplicate within each of its duplicate-therapy classes,
    // or a duplicate ingredient when it has none.
    auto add_same_ingredient = [&](std::size_t i, std::size_t j, std::uint32_t a) {
        if (!options.duplicate_therapy) return;
        if (!kb.duplicate_classes_by_substance[a].empty()) {
            for (std::uint32_t c : kb.duplicate_classes_by_substance[a]) add_class_duplicate(c, i, j, a, a);
            return;
        }
        if (Severity::Moderate < options.min_severity) return;
        Warning w;
        w.kind = WarningKind::DuplicateTherapy;
        w.severity = Severity::Moderate;
        w.evidence = EvidenceGrade::Derived;
        w.rule = kNone;
        w.input_a = static_cast<std::uint32_t>(i);
        w.input_b = static_cast<std::uint32_t>(j);
        w.substance_a = a;
        warnings.push_back(w);
    };
    auto add_pool_rules = [&](const KnowledgeBaseImpl::PoolRule* rules, std::uint32_t count, std::size_t i, std::size_t j,
                              std::uint32_t a, std::uint32_t b) {
        for (std::uint32_t k = 0; k < count; ++k) {
            const auto& pr = rules[k];
            // In a layered pack, the highest rating the pair's annotations give
            // (so filtering never hides a pair a later pack rates at the threshold).
            if (static_cast<Severity>(pr.filter_severity) < options.min_severity) continue;
            if (contains(fired, tag(0, pr.rule))) continue;
            fired.push_back(tag(0, pr.rule));
            any_supersedes = any_supersedes || pr.supersedes;
            push_interaction(pr.rule, pr.severity, pr.evidence, i, j, a, b);
        }
    };

    // --- drug-drug: find every ingredient pair with compiled rules ----------------------------
    // With the pair bits and the pair index (every pack of up to kMaxPairBitsSubstances
    // substances), pairs are probed in three passes over the regimen's ingredient pairs, in
    // (i, j, x, y) order, the order warnings have always been produced in:
    //   1. every ingredient pair, without a branch: its bit in pair_bits is read and the pair is
    //      kept as a candidate when it has rules, shares its ingredient, or may share a
    //      duplicate-therapy class (per-substance masks). Reads of different pairs do not depend
    //      on each other, so their cache misses overlap; nothing else is done for the ~93% of
    //      pairs with nothing (on the DDInter-derived pack).
    //   2. each candidate with rules reads its word of pair_rows and requests its rule record;
    //   3. candidates are turned into warnings.
    // Without them (larger packs), the graph rows are walked: see below.
    auto& hits = sc.hits;
    hits.clear();
    const bool indexed = !kb.pair_rows.empty();
    if (indexed) {
        const bool dup = options.duplicate_therapy;
        // The ingredients, flattened in (input, position) order, as arrays the probe loop streams.
        auto& sub = sc.flat_sub;
        auto& input = sc.flat_input;
        auto& starts = sc.flat_starts;
        auto& member = sc.flat_member;
        auto& begin = sc.flat_begin;
        std::size_t m = 0;
        bool single = true;  // every input has at most one ingredient (nearly every regimen)
        for (std::size_t i = 0; i < n; ++i) {
            m += ing[i].second;
            single = single && ing[i].second <= 1;
        }
        // Grown, never shrunk: only the first m (n + 1) entries are read; resize() to each
        // regimen's own size wrote zeros into every entry a larger regimen had used before.
        if (sub.size() < m) {
            sub.resize(m);
            input.resize(m);
        }
        if (begin.size() < n + 1) begin.resize(n + 1);
        for (std::size_t i = 0, f = 0; i < n; ++i) {
            begin[i] = static_cast<std::uint32_t>(f);
            for (std::size_t x = 0; x < ing[i].second; ++x, ++f) {
                sub[f] = ing[i].first[x];
                input[f] = static_cast<std::uint32_t>(i);
            }
        }
        begin[n] = static_cast<std::uint32_t>(m);
        std::uint64_t any_starts = 0;
        // Without duplicate-therapy classes every mask is zero: the masks are neither read nor
        // tested (any_starts stays 0; the multi-ingredient loop tests `masks` first).
        const bool masks = dup && kb.any_duplicate_starts;
        if (masks) {
            if (starts.size() < m) {
                starts.resize(m);
                member.resize(m);
            }
            for (std::size_t f = 0; f < m; ++f) {
                starts[f] = kb.duplicate_starts_mask[sub[f]];
                member[f] = kb.duplicate_member_mask[sub[f]];
                any_starts |= starts[f];
            }
        }
        const std::uint64_t dup_same = dup ? 1u : 0u;
        // pair_bits is symmetric (build_check_index refuses it otherwise), so the row of the first
        // ingredient is probed as is: no ordering of the pair per probe.
        const std::uint64_t* words = kb.pair_bits.data();
        const std::uint64_t stride = kb.pair_bits_stride;
        auto& cand = sc.candidates_ranked;
        std::size_t nc = 0;
        // Candidates are written unconditionally and kept when they count: room for a whole row.
        auto room = [&](std::size_t more) __attribute__((always_inline)) {
            if (cand.size() < nc + more + 1) [[unlikely]]
                cand.resize(std::max(nc + more + 1, 2 * cand.size()));
        };
        if (single) {
            // Inputs i < j are ingredient positions fa < fb: pairs come out in (i, j) order.
            for (std::size_t fa = 0; fa + 1 < m; ++fa) {
                room(m - fa - 1);
                EvalScratch::Candidate* out = cand.data();
                const std::uint32_t a = sub[fa];
                const std::uint64_t base = a * stride;
                const std::uint32_t* sb = sub.data();
                if (any_starts == 0) {
                    for (std::size_t fb = fa + 1; fb < m; ++fb) {
                        const std::uint32_t b = sb[fb];
                        const std::uint64_t k = base + b;
                        const std::uint64_t keep = ((words[k >> 6] >> (k & 63)) | (static_cast<std::uint64_t>(a == b) & dup_same)) & 1u;
                        out[nc] = {static_cast<std::uint32_t>(fa), static_cast<std::uint32_t>(fb)};
                        nc += keep;
                    }
                } else {
                    const std::uint64_t sa = starts[fa];
                    for (std::size_t fb = fa + 1; fb < m; ++fb) {
                        const std::uint32_t b = sb[fb];
                        const std::uint64_t k = base + b;
                        const std::uint64_t keep = ((words[k >> 6] >> (k & 63)) | (static_cast<std::uint64_t>(a == b) & dup_same) |
                                                    static_cast<std::uint64_t>((sa & member[fb]) != 0)) & 1u;
                        out[nc] = {static_cast<std::uint32_t>(fa), static_cast<std::uint32_t>(fb)};
                        nc += keep;
                    }
                }
            }
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint32_t fa0 = begin[i], fa1 = begin[i + 1];
                if (fa0 == fa1) continue;
                room(static_cast<std::size_t>(fa1 - fa0) * (m - fa1));
                EvalScratch::Candidate* out = cand.data();
                for (std::size_t j = i + 1; j < n; ++j)
                    for (std::uint32_t fa = fa0; fa < fa1; ++fa) {
                        const std::uint32_t a = sub[fa];
                        const std::uint64_t base = a * stride;
                        for (std::uint32_t fb = begin[j]; fb < begin[j + 1]; ++fb) {
                            const std::uint32_t b = sub[fb];
                            const std::uint64_t k = base + b;
                            const std::uint64_t keep = ((words[k >> 6] >> (k & 63)) | (static_cast<std::uint64_t>(a == b) & dup_same) |
                                                        static_cast<std::uint64_t>(masks && (starts[fa] & member[fb]) != 0)) & 1u;
                            out[nc] = {fa, fb};
                            nc += keep;
                        }
                    }
            }
        }
        // The rule records of the candidates that have rules, requested together.
        auto& hot = sc.hot;
        if (hot.size() < nc) hot.resize(std::max(nc, 2 * hot.size()));
        for (std::size_t c = 0; c < nc; ++c) {
            const std::uint32_t a = sub[cand[c].fa], b = sub[cand[c].fb];
            const KnowledgeBaseImpl::PairHot* h = a == b ? nullptr : kb.pair_hot_of(std::min(a, b), std::max(a, b));
            hot[c] = h;
            if (h) __builtin_prefetch(h);
        }
        std::uint32_t cur_i = kNone, cur_j = kNone;
        for (std::size_t c = 0; c < nc; ++c) {
            const auto [fa, fb] = cand[c];
            const std::uint32_t i = input[fa], j = input[fb];
            if (i != cur_i || j != cur_j) {
                fired.clear();
                cur_i = i;
                cur_j = j;
            }
            const std::uint32_t a = sub[fa], b = sub[fb];
            if (a == b) {
                add_same_ingredient(i, j, a);
                continue;
            }
            if (const KnowledgeBaseImpl::PairHot* h = hot[c]) {
                if (!(h->meta & KnowledgeBaseImpl::PairHot::kSpan)) {
                    if (static_cast<Severity>((h->meta >> 16) & 0xFFu) >= options.min_severity &&
                        !contains(fired, tag(0, h->word))) {
                        fired.push_back(tag(0, h->word));
                        any_supersedes = any_supersedes || ((h->meta >> 24) & 1u);
                        push_interaction(h->word, static_cast<Severity>(h->meta & 0xFFu),
                                         static_cast<EvidenceGrade>((h->meta >> 8) & 0xFFu), i, j, a, b);
                    }
                } else {
                    add_pool_rules(kb.pair_rule_pool.data() + h->word, h->meta & ~KnowledgeBaseImpl::PairHot::kSpan, i, j, a, b);
                }
            }
            if (masks && (starts[fa] & member[fb]))
                for (std::uint32_t cls : kb.duplicate_classes_by_substance[a])
                    if (kb.in_class(b, cls)) add_class_duplicate(cls, i, j, a, b);
        }
    }
    if (!indexed) {
        // For each ingredient a of input i, either walk a's partners in the graph and keep those
        // that are ingredients of a later input (cost: a's degree), or binary-search a's row for
        // each later ingredient (cost: later ingredients x log degree), whichever is cheaper. The
        // hits are then consumed in (i, j, x, y) order below.
        auto& stamp = sc.stamp;
        auto& head = sc.head;
        auto& epoch = sc.epoch;
        const std::size_t n_sub = pack.substances.size();
        if (stamp.size() < n_sub) {
            stamp.assign(n_sub, 0);
            head.assign(n_sub, 0);
            epoch = 0;
        }
        if (++epoch == 0) {
            std::fill(stamp.begin(), stamp.end(), 0);
            epoch = 1;
        }
        auto& occ = sc.occ;
        auto& later = sc.later;  // ingredients of inputs after i
        occ.clear();
        later.assign(n + 1, 0);
        for (std::size_t j = n; j-- > 0;) later[j] = later[j + 1] + ing[j].second;
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t y = 0; y < ing[j].second; ++y) {
                const std::uint32_t t = ing[j].first[y];
                occ.push_back({static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(y),
                               stamp[t] == epoch ? head[t] : kNone});
                head[t] = static_cast<std::uint32_t>(occ.size() - 1);
                stamp[t] = epoch;
            }
        for (std::size_t i = 0; i < n; ++i) {
            const auto [ia, na] = ing[i];
            const std::size_t partners = later[i + 1];
            if (partners == 0) continue;
            for (std::size_t x = 0; x < na; ++x) {
                const std::uint32_t a = ia[x];
                if (kb.partner_count(a) <= 32 * partners) {
                    kb.for_each_partner(
                        a, [&](std::uint32_t t) { return stamp[t] == epoch; },
                        [&](std::uint32_t t, const KnowledgeBaseImpl::PoolRule* rules, std::uint32_t count) {
                        for (std::uint32_t o = head[t]; o != kNone; o = occ[o].next)
                            if (occ[o].j > i)
                                hits.push_back({static_cast<std::uint32_t>(i), occ[o].j, static_cast<std::uint32_t>(x),
                                                occ[o].y, rules, count});
                    });
                } else {
                    for (std::size_t j = i + 1; j < n; ++j)
                        for (std::size_t y = 0; y < ing[j].second; ++y) {
                            std::size_t count = 0;
                            const auto* rules = kb.rules_for_pair(a, ing[j].first[y], count);
                            if (count)
                                hits.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j),
                                                static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y), rules,
                                                static_cast<std::uint32_t>(count)});
                        }
                }
            }
        }
        std::sort(hits.begin(), hits.end(), [](const Hit& p, const Hit& q) {
            return std::tie(p.i, p.j, p.x, p.y) < std::tie(q.i, q.j, q.x, q.y);
        });
    }

    // --- drug-drug and duplicate therapy, in input-pair order --------------------------------
    std::size_t next_hit = 0;
    for (std::size_t i = 0; i < n && !indexed; ++i) {
        const auto [ia, na] = ing[i];
        if (na == 0) continue;
        // Whether an ingredient of input i starts a duplicate-therapy class: read once per input
        // rather than once per ingredient pair (most substances have none).
        bool dup_classes = false;
        if (options.duplicate_therapy)
            for (std::size_t x = 0; x < na; ++x) dup_classes = dup_classes || !kb.duplicate_classes_by_substance[ia[x]].empty();
        for (std::size_t j = i + 1; j < n; ++j) {
            const auto [ib, nb] = ing[j];
            if (nb == 0) continue;
            fired.clear();
            for (std::size_t x = 0; x < na; ++x) {
                const std::uint32_t a = ia[x];
                for (std::size_t y = 0; y < nb; ++y) {
                    const std::uint32_t b = ib[y];
                    if (a == b) {
                        add_same_ingredient(i, j, a);
                        continue;
                    }
                    while (next_hit < hits.size() && hits[next_hit].i == i && hits[next_hit].j == j &&
                           hits[next_hit].x == x && hits[next_hit].y == y) {
                        const Hit& h = hits[next_hit++];
                        add_pool_rules(h.rules, h.count, i, j, a, b);
                    }
                    if (dup_classes)
                        for (std::uint32_t c : kb.duplicate_classes_by_substance[a])
                            if (kb.in_class(b, c)) add_class_duplicate(c, i, j, a, b);
                }
            }
        }
    }

    // Rules stated for one product (e.g. a depot formulation) fire only when that product is an input.
    auto input_matches = [&](std::size_t i, const Part& p) -> std::int64_t {
        const InputRef& ref = regimen.refs[i];
        const auto [list, len] = ing[i];
        if (p.kind == EntityKind::Product) {
            if (ref.resolved && ref.kind == EntityKind::Product && ref.index == p.index)
                return len == 0 ? -1 : static_cast<std::int64_t>(list[0]);
            return -1;
        }
        for (std::size_t k = 0; k < len; ++k)
            if (kb.matches(list[k], p)) return list[k];
        return -1;
    };
    using ProductHit = EvalScratch::ProductHit;
    auto& product_fired = sc.product_fired;  // (rule, input pair) already reported
    product_fired.clear();
    for (std::size_t i = 0; i < n; ++i) {
        const InputRef& ref = regimen.refs[i];
        if (!ref.resolved || ref.kind != EntityKind::Product || regimen.duplicate_of[i] != kNone) continue;
        for (std::uint32_t r : kb.interactions_by_product[ref.index]) {
            const bool this_first = kb.rule_first[r].kind == EntityKind::Product && kb.rule_first[r].index == ref.index;
            const Part& mine = this_first ? kb.rule_first[r] : kb.rule_second[r];
            const Part& other = this_first ? kb.rule_second[r] : kb.rule_first[r];
            const std::int64_t a = input_matches(i, mine);
            if (a < 0) continue;
            for (std::size_t j = 0; j < n; ++j) {
                if (j == i) continue;
                const std::int64_t b = input_matches(j, other);
                if (b < 0 || b == a) continue;
                const std::size_t lo = std::min(i, j), hi = std::max(i, j);
                const ProductHit key{r, lo, hi};
                if (std::find(product_fired.begin(), product_fired.end(), key) != product_fired.end()) continue;
                product_fired.push_back(key);
                if (i < j) add_interaction(r, i, j, static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(b));
                else add_interaction(r, j, i, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(a));
            }
        }
    }

    // --- drug-condition -------------------------------------------------------------------------
    if (regimen.patient) {
        const std::int64_t* patient = regimen.patient;
        auto& candidates = sc.candidates;  // rule, substance (kNone: product)
        for (std::size_t i = 0; i < n; ++i) {
            const InputRef& ref = regimen.refs[i];
            if (!ref.resolved || regimen.duplicate_of[i] != kNone) continue;
            candidates.clear();
            if (ref.kind == EntityKind::Product)
                for (std::uint32_t r : kb.contraindications_by_product[ref.index]) candidates.emplace_back(r, kNone);
            const auto [list, len] = ing[i];
            for (std::size_t k = 0; k < len; ++k)
                for (std::uint32_t r : kb.contraindications_by_substance[list[k]]) candidates.emplace_back(r, list[k]);
            fired.clear();
            for (auto [r, s] : candidates) {
                const auto facts = kb.contraindication_facts[r];
                if (facts.severity < options.min_severity) continue;
                const std::int64_t typed = patient[kb.contraindication_condition[r]];
                if (typed < 0) continue;
                if (contains(fired, tag(1, r))) continue;
                fired.push_back(tag(1, r));
                Warning w;
                w.kind = WarningKind::DrugCondition;
                w.severity = facts.severity;
                w.evidence = facts.evidence;
                w.rule = r;
                w.input_a = static_cast<std::uint32_t>(i);
                w.substance_a = s;
                w.condition_input = static_cast<std::uint32_t>(typed);
                warnings.push_back(w);
            }
        }
    }

    // --- cumulative (issue 12): its own function, see below -------------------------------------
    if (options.cumulative && !kb.cumulative_hits.empty()) evaluate_cumulative(kb, regimen, options, sc, warnings, implicated);

    // A more specific rule replaces the general rules it names when both fired for the same inputs
    // (unless the general one is more severe); the surviving warning says which one it replaced,
    // so nothing disappears silently. Warnings are grouped by input pair first, so this costs
    // O(W log W) rather than comparing every warning with every other.
    if (any_supersedes) {
        std::vector<std::uint32_t> order;
        order.reserve(warnings.size());
        for (std::uint32_t k = 0; k < warnings.size(); ++k)
            if (warnings[k].kind == WarningKind::DrugDrug) order.push_back(k);
        {
            auto pair_of = [&](std::uint32_t k) { return std::pair{warnings[k].input_a, warnings[k].input_b}; };
            std::stable_sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) { return pair_of(x) < pair_of(y); });
            std::vector<char> drop(warnings.size(), 0);
            std::vector<std::pair<std::uint32_t, std::vector<std::uint32_t>>> lines;  // warning -> superseded rules
            for (std::size_t g = 0; g < order.size();) {
                std::size_t end = g;
                while (end < order.size() && pair_of(order[end]) == pair_of(order[g])) ++end;
                // Within a group `order` keeps generation order, as the explanation lines expect.
                std::vector<std::uint32_t> group(order.begin() + static_cast<std::ptrdiff_t>(g),
                                                 order.begin() + static_cast<std::ptrdiff_t>(end));
                std::sort(group.begin(), group.end());
                for (std::uint32_t k : group) {
                    const auto& sup = kb.rule_supersedes[warnings[k].rule];
                    if (sup.empty()) continue;
                    std::vector<std::uint32_t> replaced;
                    for (std::uint32_t o : group) {
                        const Warning& other = warnings[o];
                        if (std::find(sup.begin(), sup.end(), other.rule) == sup.end()) continue;
                        if (other.severity > warnings[k].severity) continue;  // never trade a warning for a milder one
                        drop[o] = 1;
                        replaced.push_back(other.rule);
                    }
                    if (!replaced.empty()) lines.emplace_back(k, std::move(replaced));
                }
                g = end;
            }
            for (auto& [k, replaced] : lines) {
                warnings[k].superseded_begin = static_cast<std::uint32_t>(superseded.size());
                warnings[k].superseded_count = static_cast<std::uint32_t>(replaced.size());
                superseded.insert(superseded.end(), replaced.begin(), replaced.end());
            }
            std::size_t out = 0;
            for (std::size_t k = 0; k < warnings.size(); ++k)
                if (!drop[k]) warnings[out++] = warnings[k];
            warnings.resize(out);
        }
    }

    // Most severe first, then in the order the caller listed the inputs (a single-input warning
    // before a pair starting at the same input), then kind, then rule id.
    auto rank = [&](const Warning& w) -> std::uint32_t {
        switch (w.kind) {
            case WarningKind::DrugDrug: return kb.interaction_rank[w.rule];
            case WarningKind::DrugCondition: return kb.contraindication_rank[w.rule];
            case WarningKind::Cumulative: return kb.cumulative_rank[w.rule];
            default: return w.rule == kNone ? kb.duplicate_ingredient_rank : kb.class_rank[w.rule];
        }
    };
    auto before = [&](const Warning& x, const Warning& y) {
        if (x.severity != y.severity) return x.severity > y.severity;
        if (x.input_a != y.input_a) return x.input_a < y.input_a;
        if (x.input_b != y.input_b) return x.input_b + 1u < y.input_b + 1u;  // kNone (one input) first
        if (x.kind != y.kind) return x.kind < y.kind;
        return rank(x) < rank(y);
    };
    // A regimen has a handful of warnings: a stable insertion sort gives the same order as
    // std::stable_sort without its temporary buffer (an allocation per regimen when screening).
    if (warnings.size() <= 32) {
        for (std::size_t k = 1; k < warnings.size(); ++k) {
            const Warning w = warnings[k];
            std::size_t m = k;
            for (; m > 0 && before(w, warnings[m - 1]); --m) warnings[m] = warnings[m - 1];
            warnings[m] = w;
        }
    } else {
        std::stable_sort(warnings.begin(), warnings.end(), before);
    }
}

// --- cumulative rules (issue 12) -------------------------------------------------------------------
// Each medication adds one to every requirement its ingredients meet, once per rule; only rules
// some ingredient can count towards are touched, so the cost is O(inputs x such rules), and a
// regimen none of whose ingredients can count costs one range test per ingredient.
void evaluate_cumulative(const KnowledgeBaseImpl& kb, const RegimenView& regimen, const EvalOptions& options,
                         EvalScratch& sc, std::vector<Warning>& warnings, std::vector<Implicated>& implicated) {
    const std::size_t n = regimen.n;
    const IngredientSpan* ing = regimen.ing;
    bool any = false;
    for (std::size_t i = 0; i < n && !any; ++i)
        for (std::size_t x = 0; x < ing[i].second && !any; ++x) any = kb.cumulative_contributes(ing[i].first[x]);
    if (!any) return;

    const std::size_t n_rules = kb.cumulative_facts.size();
    const std::size_t n_slots = kb.cumulative_hits.size();
    if (sc.cum_stamp.size() != n_rules || sc.cum_slot.size() != n_slots) {
        // Scratch sized for another knowledge base (a thread may check against several).
        sc.cum_stamp.assign(n_rules, 0);
        sc.cum_counts.assign(n_rules * 8, 0);
        sc.cum_slot.assign(n_slots, 0);
        sc.cum_epoch = 0;
    }
    if (++sc.cum_epoch == 0) {
        std::fill(sc.cum_stamp.begin(), sc.cum_stamp.end(), 0);
        std::fill(sc.cum_slot.begin(), sc.cum_slot.end(), 0);
        sc.cum_epoch = 1;
    }
    const std::uint32_t epoch = sc.cum_epoch;
    auto& touched = sc.cum_touched;
    auto& local = sc.cum_local;
    auto& matches = sc.cum_matches;
    touched.clear();
    matches.clear();
    for (std::size_t i = 0; i < n; ++i) {
        if (regimen.duplicate_of[i] != kNone) continue;
        const auto [list, len] = ing[i];
        local.clear();
        for (std::size_t x = 0; x < len; ++x) {
            const std::uint32_t s = list[x];
            for (std::uint32_t slot = kb.cumulative_slot_base[s], end = kb.cumulative_slot_base[s + 1]; slot < end; ++slot) {
                const auto& h = kb.cumulative_hits[slot];
                // The same substance in an earlier medication already counted for this rule.
                if (sc.cum_slot[slot] == epoch) continue;
                sc.cum_slot[slot] = epoch;
                auto it = std::find_if(local.begin(), local.end(), [&](const auto& l) { return l.rule == h.rule; });
                if (it == local.end()) local.push_back({h.rule, h.mask, s});
                else it->mask |= h.mask;  // a product counts once, through its first matching ingredient
            }
        }
        for (const auto& l : local) {
            if (sc.cum_stamp[l.rule] != epoch) {
                sc.cum_stamp[l.rule] = epoch;
                std::fill_n(sc.cum_counts.begin() + static_cast<std::ptrdiff_t>(l.rule) * 8, 8, std::uint8_t{0});
                touched.push_back(l.rule);
            }
            for (std::uint32_t m = l.mask, q = 0; m; m >>= 1, ++q)
                if (m & 1u) {
                    auto& c = sc.cum_counts[l.rule * 8 + q];
                    if (c < 255) ++c;
                }
            matches.push_back({l.rule, static_cast<std::uint32_t>(i), l.substance});
        }
    }
    std::sort(touched.begin(), touched.end());
    for (std::uint32_t r : touched) {
        const auto& facts = kb.cumulative_facts[r];
        if (facts.severity < options.min_severity) continue;
        bool met = true;
        for (std::uint32_t q = 0; q < facts.requirements && met; ++q) met = sc.cum_counts[r * 8 + q] >= facts.min[q];
        if (!met) continue;
        std::uint32_t typed = kNone;
        const auto& conditions = kb.cumulative_conditions[r];
        if (!conditions.empty()) {
            if (!regimen.patient) continue;
            for (std::uint32_t c : conditions)
                if (regimen.patient[c] >= 0) typed = std::min(typed, static_cast<std::uint32_t>(regimen.patient[c]));
            if (typed == kNone) continue;
        }
        Warning w;
        w.kind = WarningKind::Cumulative;
        w.severity = facts.severity;
        w.evidence = facts.evidence;
        w.rule = r;
        w.condition_input = typed;
        w.implicated_begin = static_cast<std::uint32_t>(implicated.size());
        for (const auto& h : matches)
            if (h.rule == r) implicated.push_back({h.input, h.substance});
        w.implicated_count = static_cast<std::uint32_t>(implicated.size()) - w.implicated_begin;
        const Implicated& first = implicated[w.implicated_begin];
        w.input_a = first.input;
        w.substance_a = first.substance;
        if (w.implicated_count > 1) {
            w.input_b = implicated[w.implicated_begin + 1].input;
            w.substance_b = implicated[w.implicated_begin + 1].substance;
        }
        warnings.push_back(w);
    }
}

}  // namespace rxcaution::detail
