"""KnowledgeBase.screen (issue 11): list, pandas and pyarrow inputs, exact columns and rows,
explain/report, errors, the missing-extra message, and property tests against check()."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest

import rxcaution
from rxcaution import Severity, WarningKind

pd = pytest.importorskip("pandas", reason="pandas is part of the test extra: pip install 'rxcaution[test]'")
pa = pytest.importorskip("pyarrow", reason="pyarrow is part of the test extra: pip install 'rxcaution[test]'")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rxcaution.screening import ROW_COLUMNS, SUMMARY_COLUMNS  # noqa: E402

KB = rxcaution.KnowledgeBase.builtin()


def plain_rows(frame) -> list[tuple]:
    """Rows as tuples of plain values (NaN/NA -> None)."""
    frame = frame.astype(object).where(frame.notna(), None)
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_list_of_lists_gives_exact_rows_and_columns():
    res = KB.screen([["methadone", "ketamine"], ["Suboxone", "alprazolam", "zorvatinex"], ["sertraline"]], threads=1)
    assert list(res.rows.columns) == ROW_COLUMNS
    assert list(res.summary.columns) == SUMMARY_COLUMNS
    assert plain_rows(res.rows) == [
        (0, "drug-drug", "major", "label", "ketamine-methadone", 0, 1, "methadone", "ketamine", "methadone",
         "ketamine", None, 1, 0),
        (0, "drug-drug", "major", "label", "methadone-cns-depressants", 0, 1, "methadone", "ketamine", "methadone",
         "ketamine", None, 0, 0),
        (1, "drug-drug", "major", "label", "buprenorphine-cns-depressants", 0, 1, "Suboxone", "alprazolam",
         "buprenorphine", "alprazolam", None, 0, 0),
        (1, "unresolved-medication", None, None, None, 2, None, "zorvatinex", None, None, None, None, 0, 0),
    ]
    assert plain_rows(res.summary) == [
        (0, 2, 0, 2, 0, 0, 2, 0, "major", 0, 0, True),
        (1, 3, 0, 1, 0, 0, 1, 0, "major", 1, 0, False),
        (2, 1, 0, 0, 0, 0, 0, 0, None, 0, 0, True),
    ]
    assert res.pairs_evaluated == 1 + 3 + 0
    assert str(res.rows["severity"].dtype) == "category" and res.rows["severity"].cat.ordered


def test_a_table_reads_every_kind_of_text_as_the_lists_do():
    """A table's distinct texts reach the core through _screen_columns, which reads an ASCII str's
    bytes directly and every other str as the bindings' Text caster does: non-ASCII and lone
    surrogates (read as U+FFFD) must give the rows, texts and resolution of the list input."""
    regs = [["méthadone", "ketamine", "\ud800methadone"], ["Ωmega", "Suboxone", "alprazolam"], ["methadone", "", "Kétamine"]]
    meds = pd.DataFrame({"rid": [r for r, meds in enumerate(regs) for _ in meds],
                         "drug": pd.Series([m for meds in regs for m in meds], dtype=object)})
    conds = pd.DataFrame({"rid": [0, 1, 2],
                          "dx": pd.Series(["hypértension", "\ud800x", "significant-hypertension"], dtype=object)})
    table = KB.screen(meds, conditions=conds, regimen_column="rid", medication_column="drug", condition_column="dx",
                      threads=1)
    lists = KB.screen(regs, conditions=[["hypértension"], ["\ud800x"], ["significant-hypertension"]], threads=1)
    assert plain_rows(table.rows) == plain_rows(lists.rows)
    assert plain_rows(table.summary.drop(columns="regimen")) == plain_rows(lists.summary.drop(columns="regimen"))
    unresolved = table.rows[table.rows["kind"] == "unresolved-medication"]["medication_a"].tolist()
    assert unresolved == ["méthadone", "\ud800methadone", "Ωmega", ""]  # the texts as given, reported
    assert ("methadone", "Kétamine") in set(zip(table.rows["medication_a"], table.rows["medication_b"]))


def test_pandas_long_format_with_conditions_keeps_table_order_of_regimens():
    meds = pd.DataFrame({"rid": ["b", "a", "b", "a", "c"],
                         "drug": ["ketamine", "Suboxone", "methadone", "alprazolam", "aspirin-ish"]})
    conds = pd.DataFrame({"rid": ["b", "b", "c"], "dx": ["significant-hypertension", "blorp", "hypertension"]})
    res = KB.screen(meds, conditions=conds, regimen_column="rid", medication_column="drug", condition_column="dx",
                    threads=2)
    rows = plain_rows(res.rows[["regimen", "kind", "rule", "input_a", "input_b", "medication_a", "condition"]])
    assert rows == [
        ("b", "drug-condition", "ketamine-significant-hypertension", 0, None, "ketamine", "significant-hypertension"),
        ("b", "drug-drug", "ketamine-methadone", 0, 1, "ketamine", None),
        ("b", "drug-drug", "methadone-cns-depressants", 0, 1, "ketamine", None),
        ("b", "drug-condition", "ketamine-cardiovascular-disease", 0, None, "ketamine", "significant-hypertension"),
        ("b", "unresolved-condition", None, None, None, None, "blorp"),
        ("a", "drug-drug", "buprenorphine-cns-depressants", 0, 1, "Suboxone", None),
        ("c", "unresolved-medication", None, 0, None, "aspirin-ish", None),
    ]
    assert list(res.summary["regimen"]) == ["b", "a", "c"]
    assert list(res.summary["complete"]) == [False, True, False]
    assert res.summary["max_severity"].tolist()[:2] == ["contraindicated", "major"]


def test_arrow_input_and_output_equal_pandas():
    meds = pd.DataFrame({"regimen_id": [3, 3, 1, 1, 1], "medication": ["Suboxone", "alprazolam", "methadone",
                                                                      "Methadone", "Dolophine"]})
    from_pandas = KB.screen(meds)
    from_arrow = KB.screen(pa.Table.from_pandas(meds), as_arrow=True)
    assert isinstance(from_arrow.rows, pa.Table)
    assert from_arrow.rows.column_names == ROW_COLUMNS
    assert plain_rows(from_arrow.rows.to_pandas()) == plain_rows(from_pandas.rows)
    assert plain_rows(from_arrow.summary.to_pandas()) == plain_rows(from_pandas.summary)
    # Methadone repeats methadone (checked once); Dolophine is methadone again: one duplicate warning.
    assert plain_rows(from_pandas.rows[["regimen", "kind", "rule", "input_a", "input_b"]])[-1] == (
        1, "duplicate-therapy", "duplicate-ingredient", 0, 2)


def test_arrow_input_with_pandas_output_and_dictionary_encoded_inputs():
    meds = pd.DataFrame({"regimen_id": [3, 3, 1, 1, 1, 2], "medication": ["Suboxone", "alprazolam", "methadone",
                                                                         "Methadone", "Dolophine", None]})
    want = plain_rows(KB.screen(meds).rows)
    assert want[0] == (3, "drug-drug", "major", "label", "buprenorphine-cns-depressants", 0, 1, "Suboxone",
                       "alprazolam", "buprenorphine", "alprazolam", None, 0, 0)
    assert want[-1] == (2, "unresolved-medication", None, None, None, 0, None, "", None, None, None, None, 0, 0)
    table = pa.Table.from_pandas(meds, preserve_index=False)
    # A pyarrow Table in, pandas out (as_arrow=False): the regimen ids come back as numpy values.
    assert plain_rows(KB.screen(table).rows) == want
    # Dictionary-encoded medication columns: pandas Categorical, pyarrow DictionaryArray.
    assert plain_rows(KB.screen(meds.astype({"medication": "category"})).rows) == want
    encoded = table.set_column(1, "medication", table.column("medication").dictionary_encode())
    assert plain_rows(KB.screen(encoded, as_arrow=True).rows.to_pandas()) == want
    assert plain_rows(KB.screen(encoded).summary) == plain_rows(KB.screen(meds).summary)


def test_explain_and_report_give_the_full_check():
    res = KB.screen([["sertraline"], ["ketamine", "Suboxone"], ["zzz"]])
    w = res.explain(0)
    check = KB.check(["ketamine", "Suboxone"])
    assert w.id == check.warnings[0].id
    assert w.explanation == check.warnings[0].explanation
    assert res.report(1).to_json() == check.to_json()
    last = len(res.rows) - 1
    assert res.rows["kind"][last] == "unresolved-medication"
    with pytest.raises(ValueError, match="unresolved-medication row: the input was not checked"):
        res.explain(last)
    with pytest.raises(IndexError):
        res.explain(last + 1)


def test_options_and_errors():
    regs = [["ketamine", "methadone", "Dolophine"]]
    conds = [["cardiovascular-disease"]]
    major = KB.screen(regs, conditions=conds, min_severity=Severity.MAJOR)
    assert set(major.rows["severity"]) == {"major"}
    only = KB.screen(regs, conditions=conds, kinds=[WarningKind.DRUG_CONDITION])
    assert list(only.rows["rule"]) == ["ketamine-cardiovascular-disease"]
    no_dup = KB.screen(regs, duplicate_therapy=False)
    assert "duplicate-therapy" not in set(no_dup.rows["kind"])
    with pytest.raises(KeyError, match="no column 'medication'"):
        KB.screen(pd.DataFrame({"regimen_id": [1], "drug": ["x"]}))
    with pytest.raises(TypeError, match="must be a list of lists of str"):
        KB.screen("methadone")
    with pytest.raises(TypeError, match="must be str, not int"):
        KB.screen([["methadone", 5]])
    with pytest.raises(ValueError, match="1 condition lists for 2 regimens"):
        KB.screen([["a"], ["b"]], conditions=[["x"]])
    with pytest.raises(ValueError, match="threads must be >= 0"):
        KB.screen([["a"]], threads=-1)
    with pytest.raises(rxcaution.LimitError):
        KB.screen([["methadone"] * 10001])
    empty = KB.screen([])
    assert len(empty.rows) == 0 and len(empty.summary) == 0 and list(empty.rows.columns) == ROW_COLUMNS


def test_a_missing_extra_is_named():
    code = ("import sys; sys.modules['pandas'] = None\n"
            "import rxcaution\n"
            "try:\n"
            "    rxcaution.KnowledgeBase.builtin().screen([['methadone']])\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == ("rxcaution screening needs pandas, which is not installed: "
                                  "pip install 'rxcaution[screen]'"), out.stderr


# --- properties: screen == check ------------------------------------------------------------------

NAMES = sorted({s.name for s in KB.substances()} | {p.name for p in KB.products()}) + [
    "zorvatinex", "METHADONE", "methadone hydrochloride", "subutex"]
CONDITIONS = [c.id for c in KB.conditions()] + ["not a condition"]


def check_rows(meds: list[str], conds: list[str]) -> list[tuple]:
    """A cumulative warning names every input; its screen row holds the first two and the count."""
    rep = KB.check(meds, conditions=conds)
    return sorted((str(w.kind), w.rule, str(w.severity), tuple(w.input_indexes)[:2],
                   len(w.input_indexes) if str(w.kind) == "cumulative" else 0) for w in rep.warnings)


def screen_rows(res, regimen: int) -> list[tuple]:
    part = res.rows[(res.rows["regimen"] == regimen) & res.rows["kind"].isin(["drug-drug", "drug-condition",
                                                                               "duplicate-therapy", "cumulative"])]
    out = []
    for kind, rule, sev, a, b, n in zip(part["kind"], part["rule"], part["severity"], part["input_a"], part["input_b"],
                                        part["implicated"]):
        out.append((kind, rule, sev, (int(a),) if pd.isna(b) else (int(a), int(b)), int(n)))
    return sorted(out)


def semantic(res, regimen: int) -> set[tuple]:
    """Warnings of a regimen independent of input positions: kind, rule, severity, substances (a
    cumulative row's two substances are the first two in input order, so they are left out)."""
    part = res.rows[res.rows["regimen"] == regimen]
    return {(k, r, s, frozenset() if k == "cumulative" else frozenset(x for x in (sa, sb) if isinstance(x, str)))
            for k, r, s, sa, sb in zip(part["kind"], part["rule"], part["severity"], part["substance_a"],
                                       part["substance_b"]) if not k.startswith("unresolved")}


def test_screen_equals_check_on_thousands_of_random_regimens():
    rng = random.Random(2026)
    regs = [[rng.choice(NAMES) for _ in range(rng.randint(0, 9))] for _ in range(4000)]
    conds = [[rng.choice(CONDITIONS) for _ in range(rng.choice((0, 0, 1, 2)))] for _ in range(4000)]
    res = KB.screen(regs, conditions=conds, threads=2)
    for r in range(len(regs)):
        assert screen_rows(res, r) == check_rows(regs[r], conds[r]), regs[r]
    # The random regimens meet cumulative rules: the property covers cumulative rows.
    assert (res.rows["kind"] == "cumulative").sum() > 0
    unresolved = res.summary["unresolved_medications"].tolist()
    assert unresolved == [len(KB.check(m).unresolved) for m in regs]


regimen = st.lists(st.sampled_from(NAMES), min_size=0, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(regimen, min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_property_screen_equals_check_permutation_and_subset(regs, rnd):
    res = KB.screen(regs, threads=1)
    permuted = [rnd.sample(r, len(r)) for r in regs]
    extended = [r + [rnd.choice(NAMES) for _ in range(rnd.randint(0, 3))] for r in regs]
    res_perm = KB.screen(permuted)
    res_ext = KB.screen(extended)
    for i, meds in enumerate(regs):
        assert screen_rows(res, i) == check_rows(meds, [])
        assert semantic(res_perm, i) == semantic(res, i), (meds, permuted[i])
        assert semantic(res, i) <= semantic(res_ext, i), (meds, extended[i])


def test_cumulative_rows_name_the_first_two_inputs_and_explain_names_all():
    regs = [["oxycodone", "alprazolam", "gabapentin"], ["naltrexone"]]
    res = KB.screen(regs)
    rows = res.rows[res.rows["kind"] == "cumulative"]
    assert len(rows) == 1
    i = int(rows.index[0])
    assert (rows["regimen"][i], rows["rule"][i], str(rows["severity"][i]), int(rows["input_a"][i]),
            int(rows["input_b"][i]), int(rows["implicated"][i])) == (
        0, "cumulative-opioid-cns-depressants", "major", 0, 1, 3)
    assert (rows["medication_a"][i], rows["medication_b"][i]) == ("oxycodone", "alprazolam")
    w = res.explain(i)
    assert str(w.kind) == "cumulative"
    assert list(w.inputs) == ["oxycodone", "alprazolam", "gabapentin"]
    only = KB.screen(regs, kinds=[WarningKind.CUMULATIVE])
    assert only.rows["kind"].tolist() == ["cumulative"]
    assert int((res.rows["implicated"] != 0).sum()) == 1


def test_text_columns_are_categoricals_of_the_values_present_in_order_of_appearance():
    # Rules and substances are coded in C++ against the knowledge base's id lists, converted to
    # Python once per knowledge base; the categories must still be only the values present, in
    # order of first appearance (a then b), for pandas and pyarrow output alike.
    regs = [["methadone", "ketamine"], ["Suboxone", "alprazolam", "zorvatinex"], ["ketamine", "methadone"]]
    res = KB.screen(regs, threads=1)
    rows = res.rows
    assert list(rows["rule"].cat.categories) == ["ketamine-methadone", "methadone-cns-depressants",
                                                 "buprenorphine-cns-depressants"]
    assert list(rows["substance_a"].cat.categories) == ["methadone", "ketamine", "buprenorphine", "alprazolam"]
    assert list(rows["substance_b"].cat.categories) == list(rows["substance_a"].cat.categories)
    assert list(rows["medication_a"].cat.categories) == ["methadone", "ketamine", "Suboxone", "alprazolam",
                                                        "zorvatinex"]
    arrow = KB.screen(regs, threads=1, as_arrow=True).rows
    assert arrow.column("rule").combine_chunks().dictionary.to_pylist() == list(rows["rule"].cat.categories)
    assert arrow.column("substance_b").to_pylist() == [None if v != v else v for v in
                                                       rows["substance_b"].astype(object)]
    # Every row's rule names the same rule explain() finds, on every call (the id table is shared).
    for again in (res, KB.screen(regs, threads=2)):
        for i in range(3):
            assert again.explain(i).rule == rows["rule"].iloc[i]


def test_two_knowledge_bases_of_one_pack_screen_alike_and_keep_their_own_id_tables():
    other = rxcaution.KnowledgeBase.from_snapshot(KB.to_snapshot())
    regs = [["methadone", "ketamine", "alprazolam"], ["Suboxone", "naltrexone"]] * 50
    mine, theirs = KB.screen(regs, threads=2), other.screen(regs, threads=1)
    pd.testing.assert_frame_equal(mine.rows, theirs.rows)
    assert theirs.explain(0).rule == mine.explain(0).rule == mine.rows["rule"].iloc[0]
    del other  # the table of a knowledge base that is gone is dropped; screening goes on
    assert plain_rows(KB.screen(regs[:2], threads=1).rows) == plain_rows(mine.rows[mine.rows["regimen"] < 2])


def test_arrow_string_columns_are_encoded_like_pandas_factorize_on_any_threads():
    """The Arrow string encoder (_core._factorize_utf8, used for pandas str / pyarrow string
    columns) gives pandas.factorize's codes and first-appearance order: over chunks, slices,
    missing values, 32- and 64-bit offsets, non-ASCII text, and rows split between threads."""
    from rxcaution import _core
    from rxcaution.screening import _factorize_texts, _utf8_chunks

    rnd = random.Random(4)
    # Texts of every length to 40 (the hash reads up to 16 bytes as overlapping words, longer
    # ones 16 at a time), and the same texts with one byte changed at each place.
    lengths = ["abcdefghijklmnopqrstuvwxyz0123456789ABCD"[:n] for n in range(41)]
    changed = [t[:i] + "#" + t[i + 1:] for t in lengths for i in range(len(t))]
    words = ["methadone", "Suboxone", "kétamine", "", "naltrexone", "β-blocker", "x" * 40] + \
        [f"drug{k}" for k in range(3000)] + lengths + changed
    values = [None if rnd.random() < 0.05 else rnd.choice(words) for _ in range(300_000)]
    for typ in (pa.string(), pa.large_string()):
        whole = pa.array(values, type=typ)
        chunked = pa.chunked_array([whole.slice(0, 1), whole.slice(1, 150_000), whole.slice(150_001, 0),
                                    whole.slice(150_001)])
        want_codes, want_uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
        for column in (chunked, pd.Series(pd.arrays.ArrowStringArray(chunked))):
            for threads in (1, 2, 3, 0):
                codes, uniques = _factorize_texts(pd.factorize, column, threads)
                assert uniques == list(want_uniques)
                assert codes.dtype == "int32" and (codes == want_codes).all()
    # A text at the very end of its data buffer, of every length: read within it (ASan builds).
    for text in lengths:
        codes, uniques = _factorize_texts(pd.factorize, pa.array(["other", text]), 1)
        assert list(codes) == [0, 1 if text != "other" else 0] and uniques[-1] == text
    # Columns that are not Arrow strings keep pandas' own factorize.
    assert _utf8_chunks(pd.Series(["a", "b"], dtype=object)) is None
    assert _utf8_chunks(pd.Series(["a", "b"], dtype="category")) is None
    assert _utf8_chunks(pa.array([1, 2])) is None
    # Buffers that do not agree are refused, never read out of bounds.
    arr = pa.array(["abc", "de"])
    validity, offsets, data = arr.buffers()
    bad_offsets = pa.py_buffer(bytes(pa.array([0, 3, 99], type=pa.int32()).buffers()[1]))
    with pytest.raises(ValueError, match="offsets decrease or leave the data buffer"):
        _core._factorize_utf8([(validity, bad_offsets, data, 2, 0, False)])
    with pytest.raises(ValueError, match="offsets buffer shorter than the chunk"):
        _core._factorize_utf8([(validity, offsets, data, 5, 0, False)])
    with pytest.raises(ValueError, match="a chunk is"):
        _core._factorize_utf8([(offsets, data)])


def test_pandas_str_object_and_arrow_medication_columns_screen_alike():
    rnd = random.Random(12)
    names = ["Suboxone", "methadone", "ketamine", "alprazolam", "fluconazole", "zorvatinex", "Methadone HCl"]
    rows = [(r, rnd.choice(names)) for r in range(400) for _ in range(rnd.randint(1, 5))]
    obj = pd.DataFrame(rows, columns=["regimen_id", "medication"]).astype({"medication": object})
    want = plain_rows(KB.screen(obj).rows)
    assert len(want) > 300
    arrow_backed = obj.astype({"medication": pd.StringDtype("pyarrow")})
    assert plain_rows(KB.screen(arrow_backed, threads=2).rows) == want
    assert plain_rows(KB.screen(pa.Table.from_pandas(obj, preserve_index=False), threads=2).rows) == want


def _same_result(a, b) -> None:
    """Equal rows and summary, dtypes and categories (in order) included."""
    for x, y in ((a.rows, b.rows), (a.summary, b.summary)):
        pd.testing.assert_frame_equal(x, y)
        for c in x.columns:
            if isinstance(x[c].dtype, pd.CategoricalDtype):
                assert list(x[c].cat.categories) == list(y[c].cat.categories), c
                assert (x[c].cat.codes == y[c].cat.codes).all(), c


def test_a_large_list_is_encoded_on_several_threads_with_the_codes_of_one():
    # From 65,536 entries with threads >= 2, the list of lists is dictionary-encoded on several
    # threads; texts must get the codes (category order = first appearance) of the one-thread
    # encoder, also for equal texts in distinct str objects, tuples, Latin-1 text and empty text.
    rnd = random.Random(11)
    names = ["methadone", "ketamine", "Suboxone", "alprazolam", "sertraline", "Dolophine", "zorvatinex",
             "naltrexone", "buprenorphine", "", "Ärzneimittel", "tramadol", "gabapentin"]
    regs = []
    for i in range(9000):
        meds = [(n + ".")[:-1] if i % 2 else n for n in rnd.sample(names, 8)]  # new str objects every other regimen
        regs.append(tuple(meds) if i % 3 == 0 else meds)
    one, two = KB.screen(regs, threads=1), KB.screen(regs, threads=2)
    _same_result(one, two)
    assert list(two.rows["medication_a"].cat.categories)[:3] == list(dict.fromkeys(regs[0]))[:3]
    # Outside the threads' case (a str of two bytes per character, a str subclass, a list that is
    # not a list or tuple), the one-thread encoder does it all: same result, same errors.
    class Name(str):
        pass

    for odd in ("Ωmega", Name("methadone")):
        changed = regs[:8000] + [["ketamine", odd]] + regs[8000:]
        _same_result(KB.screen(changed, threads=1), KB.screen(changed, threads=2))
    from collections import UserList

    ranged = regs[:8000] + [UserList(["ketamine", "methadone"])] + regs[8000:]
    _same_result(KB.screen(ranged, threads=1), KB.screen(ranged, threads=2))
    with pytest.raises(TypeError, match="must be str, not int"):
        KB.screen(regs[:8500] + [["methadone", 5]], threads=2)
    with pytest.raises(TypeError, match="must be a list of str, not a str"):
        KB.screen(regs[:8500] + ["methadone"], threads=2)


def test_texts_first_met_late_in_a_large_list_get_the_codes_of_one_thread():
    """With threads >= 2 the encoder takes the first sixteenth of the entries alone (the codes of
    the texts it meets are final), then the rest on the threads, which read its tables. A text
    first met later, in one thread's range, in both, or first in the second one's, must still get
    its place in the order of first appearance over the whole batch, as on one thread."""
    rnd = random.Random(17)
    names = ["methadone", "ketamine", "Suboxone", "alprazolam", "sertraline", "naltrexone", "Dolophine",
             "buprenorphine", "ondansetron", "quetiapine"]
    regs = [rnd.sample(names, 8) for _ in range(9000)]
    assert sum(map(len, regs)) >= 65536  # the parallel encoder's case
    for at, late in ((2500, "tramadol"), (8000, "gabapentin"), (4000, "gabapentin"), (7000, "zorvatinex"),
                     (8999, "fluconazole"), (6000, "tramadol"), (600, "Ärzneimittel")):
        regs[at] = regs[at][:7] + [late]
    regs[5000] = [("methadone" + ".")[:-1]] + regs[5000][1:]  # an equal text in a new str object
    one, two = KB.screen(regs, threads=1), KB.screen(regs, threads=2)
    _same_result(one, two)
    first_seen = list(dict.fromkeys(m for r in regs for m in r))
    assert list(two.rows["medication_a"].cat.categories) == first_seen
    assert first_seen.index("Ärzneimittel") < first_seen.index("tramadol") < first_seen.index("gabapentin")


def test_a_population_sized_list_is_encoded_on_several_threads_with_the_codes_of_one():
    """Past 65,536 regimens the lists' sizes are read on the threads too, past 16,384 distinct texts
    they are copied out on the threads (a Latin-1 one encoded by Python meanwhile), and past
    2,097,152 entries the one-thread seed stops at 131,072 of them: texts must still get the codes
    of one thread (categories in order of first appearance), and a regimen that is not a list or
    tuple in the second half of the lists still leaves it all to the one-thread encoder."""
    from collections import UserList

    rnd = random.Random(29)
    common = ["methadone", "ketamine", "Suboxone", "alprazolam", "naltrexone", "Dolophine", "sertraline"]
    rare = [f"drug{k}" for k in range(20000)] + [f"médicament{k}" for k in range(2000)]
    regs = [[rnd.choice(rare) if rnd.random() < 0.15 else rnd.choice(common) for _ in range(15)]
            for _ in range(140_000)]
    regs[100_000] = tuple(regs[100_000])
    entries = [m for r in regs for m in r]
    assert len(entries) > 2 * 1024 * 1024 and len(set(entries)) > 16384

    def same(a, b):  # as _same_result, with DataFrame.equals (millions of rows)
        for x, y in ((a.rows, b.rows), (a.summary, b.summary)):
            assert list(x.dtypes) == list(y.dtypes) and x.equals(y)
            for c in x.columns:
                if isinstance(x[c].dtype, pd.CategoricalDtype):
                    assert list(x[c].cat.categories) == list(y[c].cat.categories), c

    one, two = KB.screen(regs, threads=1), KB.screen(regs, threads=2)
    same(one, two)
    assert len(one.rows) > 1_000_000
    assert list(two.rows["medication_a"].cat.categories) == list(dict.fromkeys(entries))
    odd = regs[:120_000] + [UserList(["ketamine", "methadone"])] + regs[120_000:]
    same(KB.screen(odd, threads=1), KB.screen(odd, threads=2))


def test_the_parallel_encoder_hashes_str_as_str_does_and_caches_it_right():
    """On several threads the encoder keys texts by str's own hash: read where the object has it
    cached, computed (and cached in the object, as str.__hash__ does) where not. Equal texts in an
    object hashed before and in one never hashed must share a code, and the hash left in an object
    must be the one Python computes for that text (a wrong one would break every dict it meets)."""
    rnd = random.Random(23)
    names = ["methadone", "ketamine", "Suboxone", "Ärzneimittel", "", "ondansetron", "métformine", "zorvatinex",
             "naltrexone", "x" * 40]
    hashed = {n: "".join(list(n)) for n in names}
    for text in hashed.values():
        hash(text)  # cached in these objects
    regs, fresh = [], []
    for i in range(9000):
        picked = rnd.sample(names, 8)
        meds = ["".join(list(n)) if (i + k) % 2 else hashed[n] for k, n in enumerate(picked)]  # new, unhashed
        fresh.extend(m for k, m in enumerate(meds) if (i + k) % 2)
        regs.append(meds)
    assert sum(map(len, regs)) >= 65536  # the parallel encoder's case
    two = KB.screen(regs, threads=2)  # first: the fresh objects are not hashed yet
    _same_result(KB.screen(regs, threads=1), two)
    assert sorted(two.rows["medication_a"].cat.categories) == sorted(set(m for r in regs for m in r))
    for text in fresh[::97]:
        again = "".join(list(text))  # hashed by Python now, from the text
        assert hash(text) == hash(again), text
        assert {text: 1}[again] == 1


def test_lists_of_many_distinct_str_objects_encode_as_lists_of_shared_ones():
    """Past 65,536 distinct str objects the encoders stop keying by object address (lists read from
    a file have a str per entry: that table would only grow); every text must still get the code,
    and every row the content, that the same lists built from a few shared objects give."""
    import random

    class Name(str):
        pass

    rng = random.Random(5)
    ascii_names = ["methadone", "ketamine", "ondansetron", "Suboxone", "alprazolam", "zorvatinex", "fluconazole",
                   "methadone hydrochloride", "KETAMINE", "Buprenorphine"]
    odd_names = ascii_names + ["Ωmega", "\ud800methadone", "\ufffdmethadone", "métformine"]
    for names, threads in ((ascii_names, (1, 2)), (odd_names, (1, 2))):
        shared = [[rng.choice(names) for _ in range(5)] for _ in range(30000)]
        fresh = [["".join(list(m)) for m in r] for r in shared]  # a new str object for every entry
        fresh[7][0] = Name(fresh[7][0])
        assert len({id(m) for r in fresh for m in r}) == 150000
        for t in threads:
            _same_result(KB.screen(fresh, threads=t), KB.screen(shared, threads=t))


def test_a_text_with_a_lone_surrogate_shares_the_code_of_the_text_it_reads_as():
    """"\ud800methadone" has no UTF-8 form and is read as "\ufffdmethadone": the two are one text
    (one category, the first one met), whichever comes first, on the one-thread encoder (the only
    one that takes such str) and past the point where the encoder stops keying by address."""
    for regs, first in (([["\ud800methadone", "\ufffdmethadone", "x", "\ud800methadone"]], "\ud800methadone"),
                        ([["\ufffdmethadone", "x", "\ud800methadone"]], "\ufffdmethadone"),
                        ([["y", "x"], ["\ufffdmethadone", "\ud800methadone"]], "\ufffdmethadone")):
        for threads in (1, 2):
            rows = KB.screen(regs, threads=threads).rows
            texts = [t for t in rows["medication_a"].tolist() if t not in ("x", "y")]
            assert texts and all(t == first for t in texts), (regs, texts)
            assert list(rows["medication_a"].cat.categories).count(first) == 1
            other = ({"\ud800methadone", "\ufffdmethadone"} - {first}).pop()
            assert other not in set(rows["medication_a"].cat.categories)


def test_a_regimen_whose_iteration_changes_the_lists_is_read_from_a_snapshot():
    """Reading a regimen that is not a list or tuple runs its Python code; code that empties the
    list of regimens (or another regimen, or the conditions) while it is read used to crash the
    process. Every such sequence is now read before the encoding starts, from a snapshot of the
    outer sequence: the screen is of the regimens as they were when the call began."""
    regs: list = []
    conds: list = []

    class Clearing:
        def __init__(self, items: list) -> None:
            self.items = items

        def __len__(self) -> int:
            return len(self.items)

        def __iter__(self):
            regs.clear()
            conds.clear()
            first.clear()  # an exact list not read yet: read as it is now (empty)
            return iter(self.items)

    first = ["ketamine", "methadone"]
    for threads in (1, 2):
        first[:] = ["ketamine", "methadone"]
        regs[:] = [["alprazolam", "methadone"], Clearing(["methadone", "ondansetron"]), first, ["zorvatinex"]]
        conds[:] = [[], Clearing(["long QT syndrome"]), [], []]
        res = KB.screen(regs, conditions=conds, threads=threads)
        assert res.summary["medications"].tolist() == [2, 2, 0, 1]
        want = KB.screen([["alprazolam", "methadone"], ["methadone", "ondansetron"], [], ["zorvatinex"]],
                         conditions=[[], ["long QT syndrome"], [], []], threads=threads)
        _same_result(res, want)
        assert regs == [] and conds == []


def test_summary_is_built_on_first_access_once():
    import threading

    regs = [["methadone", "ketamine"], ["Suboxone", "alprazolam", "zorvatinex"]] * 3
    res = KB.screen(regs, threads=1)
    assert "_summary" in vars(res)
    seen: list = []
    start = threading.Barrier(4)

    def read() -> None:
        start.wait()
        seen.append(res.summary)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and all(s is seen[0] for s in seen)
    assert res.summary is seen[0]
    assert list(res.summary.columns) == SUMMARY_COLUMNS
    reports = [KB.check(meds) for meds in regs]
    assert res.summary["warnings"].tolist() == [len(r.warnings) for r in reports]
    assert res.summary["max_severity"].tolist() == [str(r.warnings[0].severity) for r in reports]
    assert res.summary["complete"].tolist() == [True, False] * 3
    assert repr(res).startswith("ScreenResult(rows=") and ", summary=" in repr(res)
    # Pickled and copied with its summary (built then if it was not yet).
    import copy
    import pickle

    fresh = KB.screen(regs, threads=1)
    back = pickle.loads(pickle.dumps(fresh))
    _same_result(back, res)
    assert back.explain(0).rule == res.explain(0).rule
    assert copy.copy(fresh).summary is fresh.summary
    # A summary given to the constructor is kept as given.
    other = rxcaution.screening.ScreenResult(res.rows, "given", 1, KB, res._batch, res._row_regimen, {})
    assert other.summary == "given"


def test_a_lone_surrogate_is_reported_in_pandas_and_arrow_output():
    """A str with a lone UTF-16 surrogate has no UTF-8 form: it never resolves, and Arrow output
    gives it with U+FFFD (pandas keeps the caller's str); neither raises."""
    regs = [["methadone", "ket\ud800amine"]]
    rows = KB.screen(regs).rows
    assert rows["kind"].tolist() == ["unresolved-medication"]
    assert rows["medication_a"].tolist() == ["ket\ud800amine"]
    table = KB.screen(regs, as_arrow=True).rows
    assert table.column("kind").to_pylist() == ["unresolved-medication"]
    assert table.column("medication_a").to_pylist() == ["ket\ufffdamine"]


def test_arrow_output_from_the_cores_id_buffers_equals_pandas_and_the_other_way(monkeypatch):
    """The Arrow output's rule and substance dictionaries are written by the core (offsets and
    bytes of the ids present, in order of first appearance, no Python str), and its indices carry
    their nulls in a bitmap packed by numpy. The table validates in full, equals the pandas output
    value for value, and equals the table built from the knowledge base's id arrays instead."""
    from rxcaution import _core

    rnd = random.Random(5)
    names = [s.name for s in KB.substances()][:150] + ["Suboxone", "zorvatinex", "ketamin", "methadone HCl"]
    regs = [rnd.sample(names, rnd.randint(0, 9)) for _ in range(400)]
    conds = [rnd.sample(["QT prolongation", "pregnancy", "no such condition"], rnd.randint(0, 2)) for _ in regs]
    tables = {}
    for threads in (1, 2):
        table = KB.screen(regs, conditions=conds, threads=threads, as_arrow=True).rows
        table.validate(full=True)
        assert table.num_rows > 100 and table.column("rule").null_count > 0  # rules, and unresolved rows
        assert plain_rows(table.to_pandas()) == plain_rows(KB.screen(regs, conditions=conds, threads=threads).rows)
        tables[threads] = table
    assert tables[1].equals(tables[2])
    out = _core._screen_lists(KB, regs, conds, Severity.MINOR, True, [], 1, True)
    offsets, data = out["rule_dictionary"]
    assert offsets[0] == 0 and offsets[-1] == len(data) and len(offsets) == len(out["rule_order"]) + 1
    real = _core._screen_lists

    def without_dictionaries(*args, **kwargs):
        got = real(*args, **kwargs)
        got["rule_dictionary"] = got["substance_dictionary"] = None  # as when the ids exceed 2 GiB
        return got

    monkeypatch.setattr(_core, "_screen_lists", without_dictionaries)
    other = KB.screen(regs, conditions=conds, threads=1, as_arrow=True).rows
    assert other.equals(tables[1])


def test_arrow_dictionaries_of_tens_of_thousands_of_rules_are_written_on_several_threads(monkeypatch):
    """From 32,768 rule ids present the Arrow rule dictionary is sized and copied on two threads
    (each a range of the ids, then copied where the sizes before it say): on a synthetic pack of
    40,000 pair rules (bench/make_large_pack.py; placeholder facts), a screen that meets most of
    them gives the same table on one thread and two, equal to the pandas output and to the table
    built from the knowledge base's id arrays instead."""
    import importlib.util
    import json
    from pathlib import Path

    from rxcaution import _core

    spec = importlib.util.spec_from_file_location(
        "make_large_pack", Path(__file__).resolve().parents[2] / "bench" / "make_large_pack.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    kb = rxcaution.KnowledgeBase.from_json(json.dumps(maker.make_pack(300, 40000)))
    rnd = random.Random(9)
    names = [f"drug {i}" for i in range(300)]
    regs = [rnd.sample(names, 12) for _ in range(5000)]
    out = _core._screen_lists(kb, regs, None, Severity.MINOR, True, [], 2, True)
    assert len(out["rule_order"]) > 2 * 16384  # two threads' worth of ids
    tables = [kb.screen(regs, threads=t, as_arrow=True).rows for t in (1, 2)]
    for table in tables:
        table.validate(full=True)
    assert tables[0].equals(tables[1])
    frame = kb.screen(regs, threads=2).rows
    assert tables[1].column("rule").to_pylist() == frame["rule"].astype(object).tolist()
    assert tables[1].column("substance_b").to_pylist() == frame["substance_b"].astype(object).tolist()
    real = _core._screen_lists

    def without_dictionaries(*args, **kwargs):
        got = real(*args, **kwargs)
        got["rule_dictionary"] = got["substance_dictionary"] = None
        return got

    monkeypatch.setattr(_core, "_screen_lists", without_dictionaries)
    assert kb.screen(regs, threads=2, as_arrow=True).rows.equals(tables[1])


def test_sorted_int64_regimen_ids_take_the_one_pass_path_with_factorize_results():
    from rxcaution import _core

    np = pytest.importorskip("numpy")
    offsets, uniques = _core._sorted_runs_int64(np.array([5, 5, 7, 9, 9, 9], dtype=np.int64))
    assert offsets.tolist() == [0, 2, 3, 6] and uniques.tolist() == [5, 7, 9]
    assert [a.tolist() for a in _core._sorted_runs_int64(np.array([-4], dtype=np.int64))] == [[0, 1], [-4]]
    empty = _core._sorted_runs_int64(np.array([], dtype=np.int64))
    assert empty[0].tolist() == [0] and empty[1].tolist() == []
    # Anything else is left to pandas: decreasing ids, other dtypes, strided views.
    assert _core._sorted_runs_int64(np.array([1, 3, 1, 2], dtype=np.int64)) is None
    assert _core._sorted_runs_int64(np.array([1, 2], dtype=np.int32)) is None
    assert _core._sorted_runs_int64(np.array([1.0, 2.0])) is None
    assert _core._sorted_runs_int64(np.arange(10, dtype=np.int64)[::2]) is None
    rnd = random.Random(21)
    names = ["Suboxone", "methadone", "ketamine", "alprazolam", "fluconazole", "zorvatinex"]
    rows = [(r * 3, rnd.choice(names)) for r in range(300) for _ in range(rnd.randint(1, 4))]
    sorted_ids = pd.DataFrame(rows, columns=["regimen_id", "medication"])
    want = plain_rows(KB.screen(sorted_ids.astype({"regimen_id": "int32"})).rows)  # pandas.factorize
    assert len(want) > 100
    assert plain_rows(KB.screen(sorted_ids).rows) == want
    assert list(KB.screen(sorted_ids).summary["regimen"]) == sorted(set(r for r, _ in rows))
    shuffled = sorted_ids.sample(frac=1.0, random_state=3)  # unsorted: pandas.factorize, table order
    assert sorted(plain_rows(KB.screen(shuffled).rows)) == sorted(
        plain_rows(KB.screen(shuffled.astype({"regimen_id": "int32"})).rows))


def test_categorical_medications_take_their_own_codes_with_factorize_results():
    """A categorical column of str categories is encoded from its codes (renumbered by first
    appearance, as pandas.factorize does): the same result as the str column, categories in the
    same order, unused categories not among them, a missing value an unresolved row."""
    from rxcaution import _core

    np = pytest.importorskip("numpy")
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        codes, order = _core._first_appearance_codes(np.array([3, 1, -1, 3, 0, 1], dtype=dtype), 5)
        assert codes.dtype == np.int32 and codes.tolist() == [0, 1, -1, 0, 2, 1] and order.tolist() == [3, 1, 0]
    with pytest.raises(ValueError, match="categorical codes outside their 4 categories"):
        _core._first_appearance_codes(np.array([0, 4], dtype=np.int8), 4)
    assert _core._first_appearance_codes(np.array([0, 1], dtype=np.uint8), 2) is None
    assert _core._first_appearance_codes(np.array([0, 1, 2, 3], dtype=np.int32)[::2], 4) is None
    # Its table has a slot per category: at most 4 x the rows + 4096 (then pandas.factorize).
    assert _core._first_appearance_codes(np.array([1, 0], dtype=np.int32), 4104) is not None
    assert _core._first_appearance_codes(np.array([1, 0], dtype=np.int32), 4105) is None
    few = pd.DataFrame({"regimen_id": [1, 1], "medication": pd.Categorical(["methadone", "alprazolam"],
                                                                           categories=[f"c{i}" for i in range(5000)]
                                                                           + ["methadone", "alprazolam"])})
    assert plain_rows(KB.screen(few).rows) == plain_rows(KB.screen(few.astype({"medication": str})).rows)
    rnd = random.Random(8)
    names = ["Suboxone", "methadone", "ketamine", "alprazolam", "fluconazole", "zorvatinex", None]
    rows = [(r, rnd.choice(names)) for r in range(400) for _ in range(rnd.randint(1, 5))]
    frame = pd.DataFrame(rows, columns=["regimen_id", "medication"])
    cat = frame.astype({"medication": pd.CategoricalDtype(["unused", "zorvatinex", "ketamine", "methadone",
                                                           "Suboxone", "alprazolam", "fluconazole"])})
    _same_result(KB.screen(cat), KB.screen(frame))
    assert "unused" not in set(KB.screen(cat).rows["medication_a"].cat.categories)
    # Without a missing value the texts are known distinct (no check for repeats); with "" among the
    # categories and a missing value, the two "" are one category, as for the str column.
    present = frame.dropna().reset_index(drop=True)
    _same_result(KB.screen(present.astype({"medication": "category"})), KB.screen(present))
    blank = frame.assign(medication=frame["medication"].where(frame.index % 7 != 3, ""))
    assert blank["medication"].isna().any() and (blank["medication"] == "").any()
    _same_result(KB.screen(blank.astype({"medication": "category"})), KB.screen(blank))
    # Categories that are not all str (here ints) are left to pandas.factorize.
    numbers = pd.DataFrame({"regimen_id": [1, 1], "medication": pd.Categorical([7, 8])})
    assert plain_rows(KB.screen(numbers).rows) == plain_rows(KB.screen(numbers.astype({"medication": str})).rows)


def test_freed_columns_are_kept_for_reuse_within_the_limit_the_environment_sets():
    """Output columns of 256 KiB and more are mappings kept for the next screen once freed (a Dask
    worker's glibc would hand out fresh pages for each): at most 64 MiB by default,
    RXCAUTION_BLOCK_CACHE_MB sets another limit, 0 turns it off, and a value that is not a whole
    number of MiB leaves the default."""
    if sys.platform != "linux":
        pytest.skip("mappings of their own on Linux only")
    code = ("import rxcaution; kb = rxcaution.KnowledgeBase.builtin(); "
            "regs = [['methadone', 'ketamine', 'ondansetron', 'zorvatinex', 'alprazolam']] * 60000; "
            "kb.screen(regs, threads=1); kb.screen(regs, threads=1); print(rxcaution.screen_memory_kept())")

    def kept(value):
        env = {k: v for k, v in os.environ.items() if k != "RXCAUTION_BLOCK_CACHE_MB"}
        if value is not None:
            env["RXCAUTION_BLOCK_CACHE_MB"] = value
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    default = kept(None)
    assert 0 < default <= 64 << 20
    assert kept("0") == 0
    assert kept("1") <= 1 << 20
    assert kept("lots") == default and kept("-5") == default


def test_release_screen_memory_gives_the_kept_buffers_back_and_later_screens_are_unchanged():
    """A long-running process done screening gives back what it keeps for the next screen: nothing
    is kept afterwards, and a later screen (on fresh memory) gives the same rows."""
    if sys.platform != "linux":
        pytest.skip("mappings of their own on Linux only")
    if os.environ.get("RXCAUTION_BLOCK_CACHE_MB") is not None:
        pytest.skip("RXCAUTION_BLOCK_CACHE_MB is set: the default limit is what this test checks")
    regs = [["methadone", "ketamine", "ondansetron", "zorvatinex", "alprazolam"]] * 60000
    reference = KB.screen(regs, threads=1)
    KB.screen(regs, threads=1)  # its columns, freed at once, are kept
    assert 0 < rxcaution.screen_memory_kept() <= 64 << 20
    assert rxcaution.release_screen_memory() is None
    assert rxcaution.screen_memory_kept() == 0
    again = KB.screen(regs, threads=2)
    assert plain_rows(again.rows) == plain_rows(reference.rows)
    assert again.summary.equals(reference.summary)
    del again
    assert rxcaution.screen_memory_kept() > 0
