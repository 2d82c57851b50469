// Pictures of the knowledge graph, written with Boost.Graph's Graphviz writer.

#include "detail/impl.hpp"

#include "detail/render.hpp"

#include <algorithm>
#include <tuple>

#include <map>
#include <set>
#include <sstream>

namespace rxcaution {

namespace {

struct DotVertex {
    std::string label;
    std::string shape;
    std::string fill;
};
struct DotEdge {
    std::string label;
    std::string color;
    int penwidth = 1;
};

// Quoted-string escaping for DOT; caller text is made printable first (no terminal control codes
// reach stdout through `rxcaution graph`).
std::string escape(const std::string& raw) {
    const std::string s = detail::printable(raw);
    std::string out;
    for (char c : s) {
        if (c == '\n') {
            out += "\\n";  // Graphviz line break
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string severity_color(Severity s) {
    switch (s) {
        case Severity::Contraindicated: return "#8b0000";
        case Severity::Major: return "#d62728";
        case Severity::Moderate: return "#ff7f0e";
        case Severity::Minor: return "#1f77b4";
    }
    return "black";
}

// The picture as Graphviz DOT, written directly: vertices are numbered in the order they are
// first named and edges are listed by source vertex, which is the layout Boost's write_graphviz
// gives. The knowledge itself comes from the engine's graph (class paths, ingredients, rules);
// nothing here builds a second graph.
class DotWriter {
public:
    std::size_t node(const std::string& key, const std::string& label, const std::string& shape, const std::string& fill) {
        auto it = ids_.find(key);
        if (it != ids_.end()) return it->second;
        const std::size_t v = vertices_.size();
        vertices_.push_back(DotVertex{label, shape, fill});
        ids_.emplace(key, v);
        return v;
    }
    void edge(std::size_t a, std::size_t b, const std::string& label, const std::string& color, int width = 1) {
        if (!edge_keys_.insert(std::make_tuple(a, b, label)).second) return;
        edges_.push_back({a, b, DotEdge{label, color, width}});
    }
    std::string write(const std::string& title) const {
        std::ostringstream o;
        o << "digraph G {\n";
        o << "rankdir=LR;\nlabel=\"" << escape(title) << "\";\nlabelloc=t;\nnode [fontname=\"Helvetica\"];\n"
          << "edge [fontname=\"Helvetica\", fontsize=10];\n";
        for (std::size_t v = 0; v < vertices_.size(); ++v) {
            const auto& p = vertices_[v];
            o << v << "[label=\"" << escape(p.label) << "\", shape=" << p.shape << ", style=filled, fillcolor=\"" << p.fill
              << "\"];\n";
        }
        std::vector<const Edge*> by_source;
        for (const auto& e : edges_) by_source.push_back(&e);
        std::stable_sort(by_source.begin(), by_source.end(), [](const Edge* x, const Edge* y) { return x->from < y->from; });
        for (const Edge* e : by_source) {
            o << e->from << "->" << e->to << " [label=\"" << escape(e->props.label) << "\", color=\"" << e->props.color
              << "\", fontcolor=\"" << e->props.color << "\", penwidth=" << e->props.penwidth << "];\n";
        }
        o << "}\n";
        return o.str();
    }

private:
    struct Edge {
        std::size_t from, to;
        DotEdge props;
    };
    std::vector<DotVertex> vertices_;
    std::vector<Edge> edges_;
    std::map<std::string, std::size_t> ids_;
    std::set<std::tuple<std::size_t, std::size_t, std::string>> edge_keys_;
};

}  // namespace

std::string KnowledgeBase::regimen_dot(const std::vector<std::string>& medications, const CheckContext& context) const {
    const Report report = check(medications, context);
    const auto& d = detail::ReportAccess::data(report);
    const auto& kb = *impl_;
    const auto& pack = kb.pack;
    DotWriter b;
    for (std::size_t i = 0; i < d.inputs.size(); ++i) {
        const std::string& input = d.inputs[i];
        const detail::InputRef& ref = d.refs[i];
        if (ref.resolved && ref.kind == EntityKind::Product) {
            // The product box stands for the input when the caller typed the brand itself.
            const Product& prod = pack.products[ref.index];
            const std::size_t p = b.node("product:" + prod.id, prod.name, "box", "#d9ead3");
            if (prod.name != input) b.edge(b.node("input:" + input, input, "box", "#e8f0fe"), p, "is", "gray");
            for (const auto& ing : prod.ingredients) {
                bool inactive = false;
                for (const auto& ii : prod.inactive_ingredients) inactive = inactive || ii.substance == ing;
                b.edge(p, b.node("substance:" + ing, ing, "ellipse", inactive ? "#eeeeee" : "#fff2cc"),
                       inactive ? "contains (not checked)" : "contains", "gray");
            }
            continue;
        }
        const std::size_t in = b.node("input:" + input, ref.resolved ? input : input + "\nNOT CHECKED", "box",
                                      ref.resolved ? "#e8f0fe" : "#cccccc");
        if (ref.resolved && ref.form == detail::RefForm::Composite) {
            for (std::uint32_t k = 0; k < ref.subs_count; ++k) {
                const std::string& id = pack.substances[d.parts.substances[ref.subs_begin + k]].id;
                b.edge(in, b.node("substance:" + id, id, "ellipse", "#fff2cc"), "contains", "gray");
            }
        } else if (ref.resolved && ref.form == detail::RefForm::Entity) {
            const std::string& id = pack.substances[ref.index].id;
            b.edge(in, b.node("substance:" + id, id, "ellipse", "#fff2cc"), "is", "gray");
        }
    }
    const detail::Renderer render(report);
    for (const auto& w : report.warnings()) {
        const std::string color = severity_color(w.severity);
        const std::string rule_id(render.rule_id(w));
        const std::size_t rule = b.node("rule:" + rule_id, rule_id + "\n" + std::string(to_string(w.severity)), "note",
                                        "#ffffff");
        // Pair each substance with the participant it plays, as the check did.
        std::vector<std::pair<std::uint32_t, const detail::Part*>> roles;
        if (w.kind == WarningKind::DrugDrug) {
            const auto& f = kb.rule_first[w.rule];
            const auto& s = kb.rule_second[w.rule];
            const bool straight = kb.matches(w.substance_a, f) && kb.matches(w.substance_b, s);
            roles = {{w.substance_a, straight ? &f : &s}, {w.substance_b, straight ? &s : &f}};
        } else if (w.kind == WarningKind::Cumulative) {
            // Every implicated medication, through the first requirement of the rule it meets.
            for (std::uint32_t k = 0; k < w.implicated_count; ++k) {
                const std::uint32_t si = d.implicated[w.implicated_begin + k].substance;
                const detail::Part* part = nullptr;
                for (const auto& p : kb.cumulative_parts[w.rule])
                    if (kb.matches(si, p)) {
                        part = &p;
                        break;
                    }
                roles.emplace_back(si, part);
            }
        } else if (w.kind == WarningKind::DrugCondition && w.substance_a == kNone) {
            for (std::uint32_t sid : kb.product_ingredients[d.refs[w.input_a].index]) roles.emplace_back(sid, nullptr);
        } else {
            roles.emplace_back(w.substance_a, nullptr);
            if (w.substance_b != kNone) roles.emplace_back(w.substance_b, nullptr);
        }
        for (const auto& [si, part] : roles) {
            const std::string& sid = pack.substances[si].id;
            std::size_t from = b.node("substance:" + sid, sid, "ellipse", "#fff2cc");
            // Walk up to the class the rule names, so the picture shows why a class rule applied.
            if (part && part->kind == EntityKind::Class) {
                for (std::uint32_t c : kb.class_path(si, part->index)) {
                    const std::string& cls = pack.classes[c].id;
                    const std::size_t cv = b.node("class:" + cls, cls, "hexagon", "#f4cccc");
                    b.edge(from, cv, "member of", "gray");
                    from = cv;
                }
            }
            b.edge(from, rule, std::string(to_string(w.severity)), color, 2);
        }
        const std::string condition(render.condition(w));
        if (!condition.empty())
            b.edge(rule, b.node("condition:" + condition, condition, "octagon", "#ead1dc"), "in", color, 2);
    }
    std::string title = "rxcaution: ";
    for (std::size_t i = 0; i < medications.size(); ++i) title += (i ? " + " : "") + medications[i];
    return b.write(title);
}

std::string KnowledgeBase::class_hierarchy_dot() const {
    const auto& kb = *impl_;
    // Two passes: every class gets its labelled node before any edge refers to it.
    DotWriter full;
    for (std::uint32_t c = 0; c < kb.pack.classes.size(); ++c)
        full.node(kb.pack.classes[c].id,
                  kb.pack.classes[c].name + "\n(" + std::to_string(kb.class_members[c].size()) + " substances)", "hexagon",
                  "#f4cccc");
    // The SubclassOf edges of the engine's graph, in the order the pack lists each class's parents.
    for (std::uint32_t c = 0; c < kb.pack.classes.size(); ++c)
        for (const auto& p : kb.pack.classes[c].parents)
            full.edge(full.node(kb.pack.classes[c].id, "", "", ""), full.node(p, "", "", ""), "subclass of", "gray");
    return full.write("rxcaution pack " + kb.pack.info.name + " " + kb.pack.info.version + ": class hierarchy");
}

}  // namespace rxcaution
