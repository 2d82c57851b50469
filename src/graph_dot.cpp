// Pictures of the knowledge graph, written with Boost.Graph's Graphviz writer.

#include "detail/impl.hpp"

#include <boost/graph/graphviz.hpp>

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
using DotGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, DotVertex, DotEdge>;

std::string escape(const std::string& s) {
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

// Builds a DotGraph incrementally, one vertex per key.
class Builder {
public:
    std::size_t node(const std::string& key, const std::string& label, const std::string& shape, const std::string& fill) {
        auto it = ids_.find(key);
        if (it != ids_.end()) return it->second;
        const std::size_t v = boost::add_vertex(DotVertex{label, shape, fill}, g_);
        ids_.emplace(key, v);
        return v;
    }
    void edge(std::size_t a, std::size_t b, const std::string& label, const std::string& color, int width = 1) {
        const std::string key = std::to_string(a) + ">" + std::to_string(b) + ":" + label;
        if (!edges_.insert(key).second) return;
        boost::add_edge(a, b, DotEdge{label, color, width}, g_);
    }
    std::string write(const std::string& title) const {
        std::ostringstream out;
        boost::write_graphviz(
            out, g_,
            [this](std::ostream& o, std::size_t v) {
                const auto& p = g_[v];
                o << "[label=\"" << escape(p.label) << "\", shape=" << p.shape << ", style=filled, fillcolor=\"" << p.fill
                  << "\"]";
            },
            [this](std::ostream& o, DotGraph::edge_descriptor e) {
                const auto& p = g_[e];
                o << "[label=\"" << escape(p.label) << "\", color=\"" << p.color << "\", fontcolor=\"" << p.color
                  << "\", penwidth=" << p.penwidth << "]";
            },
            [&title](std::ostream& o) {
                o << "rankdir=LR;\nlabel=\"" << escape(title) << "\";\nlabelloc=t;\nnode [fontname=\"Helvetica\"];\n"
                  << "edge [fontname=\"Helvetica\", fontsize=10];\n";
            });
        return out.str();
    }

private:
    DotGraph g_;
    std::map<std::string, std::size_t> ids_;
    std::set<std::string> edges_;
};

}  // namespace

std::string KnowledgeBase::regimen_dot(const std::vector<std::string>& medications, const CheckContext& context) const {
    const Report report = check(medications, context);
    const auto& kb = *impl_;
    Builder b;
    for (const auto& r : report.inputs) {
        if (r.kind == EntityKind::Product && r.resolved) {
            // The product box stands for the input when the caller typed the brand itself.
            const std::size_t p = b.node("product:" + r.id, r.name, "box", "#d9ead3");
            if (r.name != r.input) b.edge(b.node("input:" + r.input, r.input, "box", "#e8f0fe"), p, "is", "gray");
            for (const auto& ing : r.ingredients) {
                bool inactive = false;
                for (const auto& nc : r.not_checked) inactive = inactive || nc.rfind(ing + ":", 0) == 0;
                b.edge(p, b.node("substance:" + ing, ing, "ellipse", inactive ? "#eeeeee" : "#fff2cc"),
                       inactive ? "contains (not checked)" : "contains", "gray");
            }
            continue;
        }
        const std::size_t in = b.node("input:" + r.input, r.resolved ? r.input : r.input + "\nNOT CHECKED", "box",
                                      r.resolved ? "#e8f0fe" : "#cccccc");
        if (r.resolved) {
            b.edge(in, b.node("substance:" + r.id, r.id, "ellipse", "#fff2cc"), "is", "gray");
        }
    }
    for (const auto& w : report.warnings) {
        const std::string color = severity_color(w.severity);
        const std::size_t rule = b.node("rule:" + w.rule, w.rule + "\n" + std::string(to_string(w.severity)), "note",
                                        "#ffffff");
        // Pair each substance with the participant it plays, as the check did.
        std::vector<std::pair<std::string, const Participant*>> roles;
        if (w.kind == WarningKind::DrugDrug && w.substances.size() == 2) {
            const auto& rule_def = kb.pack.interactions[kb.interaction_index.at(w.rule)];
            const std::uint32_t a = kb.substance_index.at(w.substances[0]);
            const std::uint32_t c = kb.substance_index.at(w.substances[1]);
            const bool straight = kb.matches(a, rule_def.first) && kb.matches(c, rule_def.second);
            roles = {{w.substances[0], straight ? &rule_def.first : &rule_def.second},
                     {w.substances[1], straight ? &rule_def.second : &rule_def.first}};
        } else {
            for (const auto& sid : w.substances) roles.emplace_back(sid, nullptr);
        }
        for (const auto& [sid, part] : roles) {
            std::size_t from = b.node("substance:" + sid, sid, "ellipse", "#fff2cc");
            // Walk up to the class the rule names, so the picture shows why a class rule applied.
            if (part && part->kind == EntityKind::Class) {
                const std::uint32_t si = kb.substance_index.at(sid);
                for (const auto& cls : kb.class_path(si, kb.class_index.at(part->id))) {
                    const std::size_t cv = b.node("class:" + cls, cls, "hexagon", "#f4cccc");
                    b.edge(from, cv, "member of", "gray");
                    from = cv;
                }
            }
            b.edge(from, rule, std::string(to_string(w.severity)), color, 2);
        }
        if (!w.condition.empty())
            b.edge(rule, b.node("condition:" + w.condition, w.condition, "octagon", "#ead1dc"), "in", color, 2);
    }
    std::string title = "rxcaution: ";
    for (std::size_t i = 0; i < medications.size(); ++i) title += (i ? " + " : "") + medications[i];
    return b.write(title);
}

std::string KnowledgeBase::class_hierarchy_dot() const {
    const auto& kb = *impl_;
    // Two passes: every class gets its labelled node before any edge refers to it.
    Builder full;
    for (const auto& c : kb.pack.classes)
        full.node(c.id, c.name + "\n(" + std::to_string(kb.class_members[kb.class_index.at(c.id)].size()) + " substances)",
                  "hexagon", "#f4cccc");
    for (const auto& c : kb.pack.classes)
        for (const auto& p : c.parents) full.edge(full.node(c.id, "", "", ""), full.node(p, "", "", ""), "subclass of", "gray");
    return full.write("rxcaution pack " + kb.pack.info.name + " " + kb.pack.info.version + ": class hierarchy");
}

}  // namespace rxcaution
