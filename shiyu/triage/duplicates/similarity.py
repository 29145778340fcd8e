"""Exact and near-duplicate messages: character 3-gram TF-IDF, cosine similarity by sparse matrix products.

Character n-grams need no tokenizer and survive small edits (a changed greeting, "厅长" → "局长"), which is
what re-posted citizen messages look like. Rows are compared in blocks, so memory stays bounded by
``block × n`` while the work is a few sparse products even for tens of thousands of texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from shiyu.triage.text import normalize

BLOCK = 1024


@dataclass(frozen=True)
class DuplicatePair:
    first: int
    second: int
    similarity: float
    exact: bool


def char_ngram_matrix(texts: Sequence[str], ngram: int = 3, n_features: int = 2**22) -> sp.csr_matrix:
    """L2-normalised TF-IDF rows (sublinear term frequency, smoothed IDF), so that a row product is the cosine
    similarity.

    Hashing avoids building a vocabulary of every n-gram (3× faster); n-grams seen in one text only are
    dropped after normalisation, since they cannot add to any product, which roughly halves the work.
    ``n_features`` is the hash space: a caller comparing a few hundred short texts (duplicate finding after
    intake) takes a smaller one and accepts rare collisions.

    The weighting is scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` computed directly on the sparse
    entries (``tests/triage/test_duplicates.py`` holds them equal): the transformer's input checks and its
    IDF over the whole hash space cost 4 ms a call, four times the hashing, and duplicate finding calls this
    once per reported case."""
    docs = [normalize(t) for t in texts]
    if not docs:
        return sp.csr_matrix((0, 1), dtype=np.float32)
    counts = HashingVectorizer(analyzer="char", ngram_range=(ngram, ngram), n_features=n_features,
                               alternate_sign=False, norm=None, dtype=np.float64).transform(docs)
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=n_features)
    idf = np.log((len(docs) + 1) / (df[counts.indices] + 1.0)) + 1.0
    weights = (np.log(counts.data) + 1.0) * idf
    row_of = np.repeat(np.arange(len(docs)), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(row_of, weights=weights * weights, minlength=len(docs)))
    shared = df[counts.indices] > 1
    columns = np.flatnonzero(df > 1)
    kept = sp.csr_matrix(
        ((weights / np.where(norms == 0.0, 1.0, norms)[row_of])[shared],
         (row_of[shared], np.searchsorted(columns, counts.indices[shared]))),
        shape=(len(docs), len(columns)), dtype=np.float64)
    return kept.astype(np.float32)


def similar_pairs(matrix: sp.csr_matrix, threshold: float) -> list[tuple[int, int, float]]:
    """All (i, j, cosine) with i < j and cosine ≥ threshold among the rows of an L2-normalised matrix."""
    pairs: list[tuple[int, int, float]] = []
    transposed = matrix.T.tocsc()
    for start in range(0, matrix.shape[0], BLOCK):
        block = (matrix[start:start + BLOCK] @ transposed).tocoo()
        rows = block.row + start
        keep = (block.data >= threshold) & (block.col > rows)
        pairs.extend(zip(rows[keep].tolist(), block.col[keep].tolist(), block.data[keep].tolist(), strict=True))
    return pairs


def find_duplicates(texts: Sequence[str], threshold: float = 0.9) -> list[DuplicatePair]:
    """Pairs of texts whose character 3-gram cosine is at least ``threshold``, most similar first.
    ``exact`` means equal after normalisation (layout noise and full-width forms do not count)."""
    docs = [normalize(t) for t in texts]
    pairs = similar_pairs(char_ngram_matrix(docs), threshold - 1e-9)
    found = {(i, j): min(s, 1.0) for i, j, s in pairs}
    first_seen: dict[str, int] = {}
    for j, doc in enumerate(docs):
        if doc in first_seen:
            found[(first_seen[doc], j)] = 1.0
        elif doc:
            first_seen[doc] = j
    result = [DuplicatePair(i, j, s, docs[i] == docs[j]) for (i, j), s in found.items()]
    return sorted(result, key=lambda p: (-p.similarity, p.first, p.second))


def near_duplicates_of(queries: Sequence[str], corpus: Sequence[str], threshold: float = 0.9) -> np.ndarray:
    """Mask over ``corpus``: True where a text is (nearly) a copy of some query text. Used to keep
    evaluation messages out of an unlabelled pool, even when re-posted with small edits."""
    matrix = char_ngram_matrix(list(queries) + list(corpus))
    n = len(queries)
    hits = (matrix[n:] @ matrix[:n].T).tocsr()
    hits.data = (hits.data >= threshold).astype(np.int8)
    hits.eliminate_zeros()
    return np.asarray(hits.getnnz(axis=1) > 0)
