"""One knowledge base, many threads: results equal the single-threaded ones."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import rxcaution
from rxcaution import KnowledgeBase, Severity

REGIMENS = [
    (["Suboxone", "alprazolam"], []),
    (["methadone", "clarithromycin"], ["long QT syndrome"]),
    (["naltrexone", "methadone"], []),
    (["ketamine", "Suboxone", "diazepam", "fluconazole"], ["hypertension"]),
    (["Subutex", "Sublocade", "naloxone", "lofexidine", "clonidine"], []),
    (["methadone HCl", "zolpidem", "gabapentin", "sertraline", "ondansetron", "not-a-drug"], ["qt prolongation"]),
    (["buprenorphine", "buprenorphine"], []),
]


def _check(kb: KnowledgeBase, index: int) -> str:
    meds, conditions = REGIMENS[index % len(REGIMENS)]
    return kb.check(meds, conditions=conditions).to_json(indent=-1)


def test_concurrent_checks_match_single_threaded_results(kb):
    expected = [_check(kb, i) for i in range(len(REGIMENS))]
    assert len(set(expected)) == len(REGIMENS)  # the regimens give different reports
    rounds = 60
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: _check(kb, i), range(rounds * len(REGIMENS))))
    assert results == expected * rounds


def test_concurrent_mixed_queries(kb):
    def work(i: int):
        meds, conditions = REGIMENS[i % len(REGIMENS)]
        return (
            [r.to_dict() for r in kb.interactions_between("methadone", "clarithromycin")],
            kb.resolve(meds[0]).to_dict(),
            kb.classes_of("alprazolam"),
            kb.regimen_dot(meds, conditions=conditions, min_severity=Severity.MODERATE),
        )

    expected = [work(i) for i in range(len(REGIMENS))]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(20 * len(REGIMENS))))
    assert results == expected * 20


def test_concurrent_loads_give_identical_knowledge_bases(kb):
    text = kb.to_json()
    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(lambda _: KnowledgeBase.from_json(text), range(8)))
        builtins = list(pool.map(lambda _: KnowledgeBase.builtin(), range(8)))
    for other in loaded + builtins:
        assert other.to_json() == text
        assert _check(other, 3) == _check(kb, 3)
    assert {json.loads(k.to_json())["manifest"]["name"] for k in loaded} == {rxcaution.KnowledgeBase.builtin().info.name}
