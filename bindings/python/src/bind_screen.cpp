// Population screening (rxcaution/screen.hpp) for Python. Two private entry points feed
// KnowledgeBase::screen without per-string work in Python:
//   _screen_lists   lists of lists of str, dictionary-encoded here (by each str's cached hash and
//                   a pointer or text comparison; UTF-8 is read once per distinct text);
//   _screen_columns already dictionary-encoded columns (distinct texts + int32 codes + int64
//                   offsets, from pandas.factorize or pyarrow dictionary_encode), read in place
//                   through the buffer protocol.
// Both release the GIL for the whole screen and return the rows as numpy columns of integer
// codes: rules and substances index the knowledge base's own id lists (ScreenRuleIds, built once
// per knowledge base; _screen_ids hands them to Python, which converts them once), compacted to
// those that occur; medications and conditions index the batch's distinct texts. No Python object
// is made per row. The public KnowledgeBase.screen (argument handling, pandas / pyarrow output)
// is Python: rxcaution/screening.py.

#include "bindings.hpp"

#include <rxcaution/knowledge_base.hpp>
#include <rxcaution/screen.hpp>

#include <pybind11/numpy.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <thread>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rxcaution::python {

namespace {

// Text -> code; a lookup by string_view builds no std::string.
struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using detail_text_map = std::unordered_map<std::string, std::int32_t, TextHash, std::equal_to<>>;

ScreenOptions screen_options(Severity min_severity, bool duplicate_therapy, const std::vector<WarningKind>& kinds,
                             unsigned threads) {
    ScreenOptions o;
    o.min_severity = min_severity;
    o.duplicate_therapy = duplicate_therapy;
    o.kinds = kinds;
    o.threads = threads;
    return o;
}

// Text of a str (lone surrogates replaced, as everywhere in the bindings).
std::string text_of(py::handle item) {
    if (!PyUnicode_Check(item.ptr()))
        throw py::type_error("screen(): medications and conditions must be str, not " +
                             std::string(py::str(py::type::of(item).attr("__name__"))));
    py::detail::make_caster<Text> caster;
    if (!caster.load(item, false)) throw py::type_error("screen(): a text could not be read");
    return std::move(py::detail::cast_op<Text&>(caster).value);
}

// Dictionary encoding of a list of lists of str, keyed by the str objects themselves: a flat
// open-addressing table of (object, its hash, code). A str met again costs its cached hash, one
// probe and a pointer comparison (the same object) or a text comparison (an equal str); UTF-8 is
// read once per distinct text. Measured on 1,069,141 entries (224,423 str objects, 26,906 texts):
// about 4 times faster than a map from UTF-8 text.
struct ListEncoder {
    struct Slot {
        PyObject* object = nullptr;  // borrowed: `keep` holds every sequence read, hence its items
        Py_hash_t hash = 0;
        std::int32_t code = -1;
    };
    std::vector<py::object> keep;  // every sequence read: its items stay alive while we point at them
    std::vector<Slot> slots = std::vector<Slot>(1024);
    std::size_t used = 0;
    detail_text_map by_text;  // once per distinct str: texts equal after replacing lone surrogates share a code
    std::vector<std::string> texts;
    py::list distinct;  // the first str object of each distinct text
    std::vector<std::int64_t> offsets{0};
    std::vector<std::int32_t> codes;

    static std::size_t mix(Py_hash_t h) { return static_cast<std::size_t>(h) * 0x9E3779B97F4A7C15ull >> 7; }

    void grow() {
        std::vector<Slot> old(slots.size() * 2);
        old.swap(slots);
        const std::size_t mask = slots.size() - 1;
        for (const Slot& e : old)
            if (e.object)
                for (std::size_t h = mix(e.hash) & mask;; h = (h + 1) & mask)
                    if (!slots[h].object) {
                        slots[h] = e;
                        break;
                    }
    }

    // The code of a text met for the first time as this str object (and no equal str before it).
    std::int32_t new_text(PyObject* item) {
        Py_ssize_t size = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(item, &size);
        std::string fixed;
        std::string_view text;
        if (utf8) {
            text = std::string_view(utf8, static_cast<std::size_t>(size));
        } else {  // lone surrogates: replaced as everywhere in the bindings
            PyErr_Clear();
            fixed = text_of(item);
            text = fixed;
        }
        if (const auto it = by_text.find(text); it != by_text.end()) return it->second;
        const auto code = static_cast<std::int32_t>(texts.size());
        texts.emplace_back(text);
        by_text.emplace(std::string(text), code);
        distinct.append(py::reinterpret_borrow<py::object>(item));
        return code;
    }

    std::int32_t code_of(PyObject* item) {
        if (!PyUnicode_Check(item))
            throw py::type_error("screen(): medications and conditions must be str, not " +
                                 std::string(py::str(py::type::of(py::handle(item)).attr("__name__"))));
        // str's own hash (cached in the object after the first time), also for a str subclass:
        // no Python code runs while `items` points into a list.
        const Py_hash_t hash = PyUnicode_Type.tp_hash(item);
        if (hash == -1) throw py::error_already_set();
        const std::size_t mask = slots.size() - 1;
        std::size_t h = mix(hash) & mask;
        for (;; h = (h + 1) & mask) {
            const Slot& e = slots[h];
            if (!e.object) break;
            if (e.object == item) return e.code;
            if (e.hash == hash) {
                const int cmp = PyUnicode_Compare(e.object, item);
                if (cmp == 0) return e.code;
                if (cmp == -1 && PyErr_Occurred()) throw py::error_already_set();
            }
        }
        const std::int32_t code = new_text(item);
        slots[h] = Slot{item, hash, code};
        if (2 * ++used > slots.size()) grow();
        return code;
    }

    void add_list(py::handle seq, const char* what) {
        if (PyUnicode_Check(seq.ptr()))
            throw py::type_error(std::string("screen(): each regimen's ") + what + " must be a list of str, not a str");
        py::object fast = py::reinterpret_steal<py::object>(PySequence_Fast(seq.ptr(), "screen(): expected a sequence"));
        if (!fast) throw py::error_already_set();
        const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
        PyObject** items = PySequence_Fast_ITEMS(fast.ptr());
        for (Py_ssize_t k = 0; k < n; ++k) codes.push_back(code_of(items[k]));
        offsets.push_back(static_cast<std::int64_t>(codes.size()));
        keep.push_back(std::move(fast));
    }
};

template <class T>
py::array_t<T> column(std::size_t n) {
    return py::array_t<T>(static_cast<py::ssize_t>(n));
}

template <class T>
py::array_t<T> as_array(const std::vector<T>& v) {
    py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
}

// Where a row's texts come from: the batch's entry codes, so that medication_a / medication_b /
// condition are codes into the batch's distinct texts (no text per row).
struct EntryCodes {
    std::span<const std::int64_t> offsets;
    std::span<const std::int32_t> codes;
    std::int32_t at(std::uint64_t regimen, std::uint32_t position) const noexcept {
        if (position == kNone || offsets.empty()) return -1;
        return codes[static_cast<std::size_t>(offsets[regimen]) + position];
    }
};

// The rows as numpy columns, filled without the GIL. Every text column is a code: rule and
// substance codes index the knowledge base's own id lists (ScreenRuleIds::ids, substances()),
// so that the Python side builds its categories once per knowledge base; medication and
// condition codes index the batch's distinct texts.
py::dict result_columns(const KnowledgeBase& kb, const ScreenBatch& batch, ScreenResult&& res, unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t substance_count = kb.substances().size();
    std::vector<std::int32_t> rule_order, substance_order;
    const std::size_t n = res.rows.size();
    const std::size_t regimens = res.summaries.size();
    auto regimen = column<std::int64_t>(n);
    auto kind = column<std::int8_t>(n), severity = column<std::int8_t>(n), evidence = column<std::int8_t>(n);
    auto input_a = column<std::int32_t>(n), input_b = column<std::int32_t>(n), substance_a = column<std::int32_t>(n),
         substance_b = column<std::int32_t>(n), rule = column<std::int32_t>(n), condition_input = column<std::int32_t>(n),
         superseded = column<std::int32_t>(n), implicated = column<std::int32_t>(n), medication_a = column<std::int32_t>(n),
         medication_b = column<std::int32_t>(n), condition = column<std::int32_t>(n);
    auto s_medications = column<std::int32_t>(regimens), s_conditions = column<std::int32_t>(regimens),
         s_warnings = column<std::int32_t>(regimens), s_unresolved_medications = column<std::int32_t>(regimens),
         s_unresolved_conditions = column<std::int32_t>(regimens);
    auto s_max_severity = column<std::int8_t>(regimens);
    py::array_t<std::int32_t> s_by[4] = {column<std::int32_t>(regimens), column<std::int32_t>(regimens),
                                         column<std::int32_t>(regimens), column<std::int32_t>(regimens)};
    {
        // Raw pointers taken with the GIL held; the arrays are not visible to Python yet.
        std::int64_t* p_regimen = regimen.mutable_data();
        std::int8_t *p_kind = kind.mutable_data(), *p_severity = severity.mutable_data(), *p_evidence = evidence.mutable_data();
        std::int32_t *p_a = input_a.mutable_data(), *p_b = input_b.mutable_data(), *p_sa = substance_a.mutable_data(),
                     *p_sb = substance_b.mutable_data(), *p_rule = rule.mutable_data(),
                     *p_cond = condition_input.mutable_data(), *p_sup = superseded.mutable_data(),
                     *p_imp = implicated.mutable_data(), *p_ma = medication_a.mutable_data(),
                     *p_mb = medication_b.mutable_data(), *p_ct = condition.mutable_data();
        std::int32_t *q_med = s_medications.mutable_data(), *q_cond = s_conditions.mutable_data(),
                     *q_warn = s_warnings.mutable_data(), *q_um = s_unresolved_medications.mutable_data(),
                     *q_uc = s_unresolved_conditions.mutable_data();
        std::int32_t* q_by[4] = {s_by[0].mutable_data(), s_by[1].mutable_data(), s_by[2].mutable_data(),
                                 s_by[3].mutable_data()};
        std::int8_t* q_max = s_max_severity.mutable_data();
        py::gil_scoped_release release;
        const ScreenRuleIds& ids = *res.rule_ids;
        const EntryCodes meds{batch.regimen_offsets, batch.medication_codes};
        const EntryCodes conds{batch.condition_offsets, batch.condition_codes};
        auto idx = [](std::uint32_t v) { return v == kNone ? std::int32_t{-1} : static_cast<std::int32_t>(v); };
        // Rules and substances present, in order of first appearance: compact codes, and the
        // knowledge base code of each (rule_order / substance_order).
        std::vector<std::int32_t> rule_compact(ids.ids.size(), -1), substance_compact(substance_count, -1);
        auto compact = [](std::vector<std::int32_t>& table, std::vector<std::int32_t>& order, std::uint32_t global) {
            if (global == kNone) return std::int32_t{-1};
            std::int32_t& c = table[global];
            if (c < 0) {
                c = static_cast<std::int32_t>(order.size());
                order.push_back(static_cast<std::int32_t>(global));
            }
            return c;
        };
        // Everything but the first-appearance codes is per row: filled on `threads` threads
        // (rows and regimens split in ranges), then the rule and substance codes in one pass.
        auto fill = [&](unsigned t, unsigned count) {
            for (std::size_t k = n * t / count, hi = n * (t + 1) / count; k < hi; ++k) {
                const ScreenRow& r = res.rows[k];
                const bool warning = r.kind <= ScreenRowKind::DuplicateTherapy || r.kind == ScreenRowKind::Cumulative;
                p_regimen[k] = static_cast<std::int64_t>(r.regimen);
                p_kind[k] = static_cast<std::int8_t>(r.kind);
                p_severity[k] = warning ? static_cast<std::int8_t>(r.severity) : std::int8_t{-1};
                p_evidence[k] = warning ? static_cast<std::int8_t>(r.evidence) : std::int8_t{-1};
                p_a[k] = idx(r.input_a);
                p_b[k] = idx(r.input_b);
                p_sa[k] = idx(r.substance_a);
                p_sb[k] = idx(r.substance_b);
                p_rule[k] = warning ? idx(ids.code(r)) : -1;
                p_cond[k] = idx(r.condition_input);
                p_sup[k] = static_cast<std::int32_t>(r.superseded_count);
                p_imp[k] = static_cast<std::int32_t>(r.implicated_count);
                p_ma[k] = meds.at(r.regimen, r.input_a);
                p_mb[k] = meds.at(r.regimen, r.input_b);
                p_ct[k] = conds.at(r.regimen, r.condition_input);
            }
            for (std::size_t r = regimens * t / count, hi = regimens * (t + 1) / count; r < hi; ++r) {
                const ScreenSummary& s = res.summaries[r];
                q_med[r] = static_cast<std::int32_t>(s.medications);
                q_cond[r] = static_cast<std::int32_t>(s.conditions);
                q_warn[r] = static_cast<std::int32_t>(s.warnings);
                q_um[r] = static_cast<std::int32_t>(s.unresolved_medications);
                q_uc[r] = static_cast<std::int32_t>(s.unresolved_conditions);
                q_max[r] = s.max_severity;
                for (int v = 0; v < 4; ++v) q_by[v][r] = static_cast<std::int32_t>(s.by_severity[v]);
            }
        };
        // A thread costs tens of microseconds: worth it from some tens of thousands of rows.
        const unsigned count = static_cast<unsigned>(std::clamp<std::size_t>((n + regimens) / 32768, 1, threads));
        if (count <= 1) {
            fill(0, 1);
        } else {
            std::vector<std::thread> pool;
            for (unsigned t = 1; t < count; ++t) pool.emplace_back(fill, t, count);
            fill(0, count);
            for (auto& th : pool) th.join();
        }
        for (std::size_t k = 0; k < n; ++k) {
            p_sa[k] = compact(substance_compact, substance_order, static_cast<std::uint32_t>(p_sa[k]));
            p_sb[k] = compact(substance_compact, substance_order, static_cast<std::uint32_t>(p_sb[k]));
            p_rule[k] = compact(rule_compact, rule_order, static_cast<std::uint32_t>(p_rule[k]));
        }
        res.rows = {};
        res.summaries = {};
    }
    py::dict out;
    out["regimen"] = regimen;
    out["kind"] = kind;
    out["severity"] = severity;
    out["evidence"] = evidence;
    out["input_a"] = input_a;
    out["input_b"] = input_b;
    out["substance_a"] = substance_a;
    out["substance_b"] = substance_b;
    out["rule"] = rule;
    out["condition_input"] = condition_input;
    out["superseded"] = superseded;
    out["implicated"] = implicated;
    out["medication_a"] = medication_a;
    out["medication_b"] = medication_b;
    out["condition"] = condition;
    out["rule_serial"] = res.rule_ids->serial;
    out["rule_order"] = as_array(rule_order);
    out["substance_order"] = as_array(substance_order);
    out["summary_medications"] = s_medications;
    out["summary_conditions"] = s_conditions;
    out["summary_warnings"] = s_warnings;
    out["summary_minor"] = s_by[0];
    out["summary_moderate"] = s_by[1];
    out["summary_major"] = s_by[2];
    out["summary_contraindicated"] = s_by[3];
    out["summary_max_severity"] = s_max_severity;
    out["summary_unresolved_medications"] = s_unresolved_medications;
    out["summary_unresolved_conditions"] = s_unresolved_conditions;
    out["pairs_evaluated"] = res.pairs_evaluated;
    return out;
}

using I64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using I32 = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

}  // namespace

void bind_screen(py::module_& m) {
    m.def(
        "_screen_lists",
        [](const KnowledgeBase& kb, const py::object& regimens, const py::object& conditions, Severity min_severity,
           bool duplicate_therapy, const std::vector<WarningKind>& kinds, unsigned threads) {
            ListEncoder meds, conds;
            py::object outer = py::reinterpret_steal<py::object>(
                PySequence_Fast(regimens.ptr(), "screen(): regimens must be a sequence of lists of str"));
            if (!outer) throw py::error_already_set();
            const Py_ssize_t count = PySequence_Fast_GET_SIZE(outer.ptr());
            for (Py_ssize_t r = 0; r < count; ++r) meds.add_list(PySequence_Fast_GET_ITEM(outer.ptr(), r), "medications");
            if (!conditions.is_none()) {
                py::object couter = py::reinterpret_steal<py::object>(
                    PySequence_Fast(conditions.ptr(), "screen(): conditions must be a sequence of lists of str"));
                if (!couter) throw py::error_already_set();
                if (PySequence_Fast_GET_SIZE(couter.ptr()) != count)
                    throw py::value_error("screen(): " + std::to_string(PySequence_Fast_GET_SIZE(couter.ptr())) +
                                          " condition lists for " + std::to_string(count) + " regimens");
                for (Py_ssize_t r = 0; r < count; ++r) conds.add_list(PySequence_Fast_GET_ITEM(couter.ptr(), r), "conditions");
            }
            ScreenBatch batch;
            batch.medication_texts = meds.texts;
            batch.regimen_offsets = meds.offsets;
            batch.medication_codes = meds.codes;
            if (!conditions.is_none()) {
                batch.condition_texts = conds.texts;
                batch.condition_offsets = conds.offsets;
                batch.condition_codes = conds.codes;
            }
            const ScreenOptions options = screen_options(min_severity, duplicate_therapy, kinds, threads);
            ScreenResult res;
            {
                py::gil_scoped_release release;
                res = kb.screen(batch, options);
            }
            py::dict out = result_columns(kb, batch, std::move(res), options.threads);
            out["medication_texts"] = meds.distinct;
            out["regimen_offsets"] = as_array(meds.offsets);
            out["medication_codes"] = as_array(meds.codes);
            out["condition_texts"] = conds.distinct;
            out["condition_offsets"] = as_array(conds.offsets);
            out["condition_codes"] = as_array(conds.codes);
            return out;
        },
        py::arg("kb"), py::arg("regimens"), py::arg("conditions"), py::arg("min_severity"), py::arg("duplicate_therapy"),
        py::arg("kinds"), py::arg("threads"),
        "Private: screen lists of lists of str (see rxcaution.screening).\n\nReturns\n-------\ndict\n");
    m.def(
        "_screen_columns",
        [](const KnowledgeBase& kb, std::vector<Text> medication_texts, const I64& regimen_offsets,
           const I32& medication_codes, std::vector<Text> condition_texts, const std::optional<I64>& condition_offsets,
           const std::optional<I32>& condition_codes, Severity min_severity, bool duplicate_therapy,
           const std::vector<WarningKind>& kinds, unsigned threads) {
            const std::vector<std::string> med = strings(std::move(medication_texts));
            const std::vector<std::string> cond = strings(std::move(condition_texts));
            ScreenBatch batch;
            batch.medication_texts = med;
            batch.regimen_offsets = {regimen_offsets.data(), static_cast<std::size_t>(regimen_offsets.size())};
            batch.medication_codes = {medication_codes.data(), static_cast<std::size_t>(medication_codes.size())};
            batch.condition_texts = cond;
            if (condition_offsets && condition_codes) {
                batch.condition_offsets = {condition_offsets->data(), static_cast<std::size_t>(condition_offsets->size())};
                batch.condition_codes = {condition_codes->data(), static_cast<std::size_t>(condition_codes->size())};
            }
            const ScreenOptions options = screen_options(min_severity, duplicate_therapy, kinds, threads);
            ScreenResult res;
            {
                py::gil_scoped_release release;
                res = kb.screen(batch, options);
            }
            return result_columns(kb, batch, std::move(res), options.threads);
        },
        py::arg("kb"), py::arg("medication_texts"), py::arg("regimen_offsets"), py::arg("medication_codes"),
        py::arg("condition_texts"), py::arg("condition_offsets"), py::arg("condition_codes"), py::arg("min_severity"),
        py::arg("duplicate_therapy"), py::arg("kinds"), py::arg("threads"),
        "Private: screen dictionary-encoded columns (see rxcaution.screening).\n\nReturns\n-------\ndict\n");

    m.def(
        "_screen_ids",
        [](const KnowledgeBase& kb) {
            // An empty screen hands out the knowledge base's rule id table (built once per knowledge base).
            const std::int64_t zero = 0;
            ScreenBatch empty;
            empty.regimen_offsets = {&zero, 1};
            const ScreenResult res = kb.screen(empty, ScreenOptions{});
            py::list rules, substances;
            for (std::string_view id : res.rule_ids->ids) rules.append(utf8(std::string(id)));
            for (const auto& s : kb.substances()) substances.append(utf8(s.id));
            return py::make_tuple(res.rule_ids->serial, rules, substances);
        },
        py::arg("kb"),
        "Private: (serial, rule ids, substance ids) that screen's rule and substance codes index.\n\nReturns\n-------\ntuple\n");

    auto kb = py::reinterpret_borrow<py::class_<KnowledgeBase>>(m.attr("KnowledgeBase"));
    kb.def(
        "screen",
        [](const py::object& self, const py::object& data, const py::object& conditions, const py::object& regimen_column,
           const py::object& medication_column, const py::object& condition_column, const py::object& min_severity,
           const py::object& kinds, bool duplicate_therapy, int threads, bool as_arrow) {
            // The front end is Python (pandas / pyarrow are optional and imported only here).
            return py::module_::import("rxcaution.screening")
                .attr("screen")(self, data, py::arg("conditions") = conditions, py::arg("regimen_column") = regimen_column,
                                py::arg("medication_column") = medication_column,
                                py::arg("condition_column") = condition_column, py::arg("min_severity") = min_severity,
                                py::arg("kinds") = kinds, py::arg("duplicate_therapy") = duplicate_therapy,
                                py::arg("threads") = threads, py::arg("as_arrow") = as_arrow);
        },
        py::arg("data"), py::kw_only(), py::arg("conditions") = py::none(), py::arg("regimen_column") = "regimen_id",
        py::arg("medication_column") = "medication", py::arg("condition_column") = "condition",
        py::arg_v("min_severity", Severity::Minor, "Severity.MINOR"), py::arg("kinds") = py::none(),
        py::arg("duplicate_therapy") = true, py::arg("threads") = 0, py::arg("as_arrow") = false,
        R"doc(Screens many regimens at once (population screening); needs the ``screen`` extra.

Each distinct medication and condition text is resolved once; regimens are then checked on
``threads`` threads with the GIL released. Every regimen gets exactly the warnings
:meth:`check` gives it, in the same order, followed by one row for each input that did not
resolve (it was NOT checked; no row never means safe).

Parameters
----------
data : list of lists of str, pandas.DataFrame or pyarrow.Table
    Regimens: a list of medication lists, or a table in long format with one row per
    medication (``regimen_column``, ``medication_column``); a regimen's inputs are its rows in
    table order.
conditions : list of lists of str, pandas.DataFrame or pyarrow.Table, optional
    Patient conditions: one list per regimen, or a long table (``regimen_column``,
    ``condition_column``).
regimen_column, medication_column, condition_column : str
    Column names of the long tables.
min_severity : Severity, default Severity.MINOR
    Warnings below this severity are left out.
kinds : sequence of WarningKind, optional
    Warning kinds to return (default: all). Unresolved-input rows are always returned.
duplicate_therapy : bool, default True
    Report duplicate-therapy warnings.
threads : int, default 0
    Worker threads; 0 uses every core. Results do not depend on it.
as_arrow : bool, default False
    Return pyarrow Tables instead of pandas DataFrames.

Returns
-------
rxcaution.screening.ScreenResult
    ``rows`` (long format, one row per warning or unresolved input), ``summary`` (one row per
    regimen), ``pairs_evaluated``, and ``explain(i)`` / ``report(regimen)`` for full text.

Raises
------
ImportError
    When pandas (or pyarrow for ``as_arrow``) is missing: ``pip install 'rxcaution[screen]'``.
LimitError
    For a regimen over the limits of :meth:`check`, or a batch over the screen limits.
)doc");
}

}  // namespace rxcaution::python
