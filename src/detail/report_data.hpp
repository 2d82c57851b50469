#pragma once
// What a Report holds: the compact result of a check, and the knowledge base that gives its
// indexes meaning. Only the check writes it; the renderers read it.

#include "detail/impl.hpp"

#include <rxcaution/report.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rxcaution {

struct Report::Data {
    std::shared_ptr<const detail::KnowledgeBaseImpl> kb;
    std::vector<std::string> inputs;
    std::vector<detail::InputRef> refs;
    detail::ResolvedParts parts;  // ingredients of composite (RxNorm-style) inputs
    std::vector<std::uint32_t> duplicate_of;  // per input: earlier entry with the same text, or kNone
    std::vector<std::string> condition_inputs;
    std::vector<std::int64_t> condition_refs;  // condition index, or -1 when unresolved
    std::vector<Warning> warnings;
    std::vector<std::uint32_t> superseded;
    std::vector<Implicated> implicated;
    // One alert per pair: computed on first use (rendering, groups()), not by the check, which
    // stays as fast as before; call_once makes the first use safe from any number of threads.
    mutable std::once_flag groups_once;
    mutable std::vector<WarningGroup> groups;
    mutable std::vector<std::uint32_t> group_of;  // per warning: index into groups
    void ensure_groups() const;
    std::optional<Severity> max_severity;
};

namespace detail {
struct ReportAccess {
    static const Report::Data& data(const Report& r) { return *r.data_; }
    static Report make(std::shared_ptr<const Report::Data> d) {
        Report r;
        r.data_ = std::move(d);
        return r;
    }
};
}  // namespace detail

}  // namespace rxcaution
