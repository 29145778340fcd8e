"""Exact and near-duplicate messages: character 3-gram TF-IDF, cosine similarity by sparse matrix products.

Character n-grams need no tokenizer and survive small edits (a changed greeting, "厅长" → "局长"), which is
what re-posted citizen messages look like. Rows are compared in blocks, so memory stays bounded by
``block × n`` while the work is a few sparse products even for tens of thousands of texts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shiyu.triage.text import normalize

if TYPE_CHECKING:  # imported where used: see ``shiyu.triage.classification.classifier``
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

BLOCK = 1024


@dataclass(frozen=True)
class DuplicatePair:
    first: int
    second: int
    similarity: float
    exact: bool


def warm_up() -> None:
    """Import what comparing texts needs (scikit-learn, SciPy: a second), before the first report is
    compared instead of in it. The worker calls this (``Domain.warm_up_worker``)."""
    char_ngram_matrix(["预热", "预热"], n_features=2**4)  # the vectoriser and the sparse matrices both


def _vectorizer(ngram: int, n_features: int) -> HashingVectorizer:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char", ngram_range=(ngram, ngram), n_features=n_features,
                             alternate_sign=False, norm=None, dtype=np.float64)


class HashedCounts:
    """The hashed n-gram counts of texts seen lately, kept so that a text is hashed once, not once per
    comparison: duplicate finding compares every new report with the few hundred recent cases around it,
    and the same recent cases come round for every new report of their community. Bounded (least recently
    used out first) and safe to share between a worker's threads."""

    def __init__(self, size: int, ngram: int = 3, n_features: int = 2**22) -> None:
        self.size, self.ngram, self.n_features = size, ngram, n_features
        self._rows: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The count rows of ``texts`` (normalised first), in order: each (hashed columns, counts), columns
        unique within a row."""
        with self._lock:
            rows = {t: self._rows[t] for t in texts if t in self._rows}
            for text in rows:
                self._rows.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in rows))
        if missing:
            counts = _vectorizer(self.ngram, self.n_features).transform([normalize(t) for t in missing])
            counts.sum_duplicates()
            for i, text in enumerate(missing):
                span = slice(counts.indptr[i], counts.indptr[i + 1])
                rows[text] = (counts.indices[span].copy(), counts.data[span].copy())
            with self._lock:
                self._rows.update((t, rows[t]) for t in missing)
                while len(self._rows) > self.size:
                    self._rows.popitem(last=False)
        return [rows[t] for t in texts]


def _tfidf(indices: np.ndarray, data: np.ndarray, lengths: np.ndarray, n_features: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The TF-IDF weights of count entries (sublinear term frequency, smoothed IDF over the rows given), each
    entry's row, the rows' L2 norms (1 for an empty row) and the document frequency of every column."""
    n_docs = len(lengths)
    df = np.bincount(indices, minlength=n_features)
    weights = (np.log(data) + 1.0) * (np.log((n_docs + 1) / (df[indices] + 1.0)) + 1.0)
    row_of = np.repeat(np.arange(n_docs), lengths)
    norms = np.sqrt(np.bincount(row_of, weights=weights * weights, minlength=n_docs))
    return weights, row_of, np.where(norms == 0.0, 1.0, norms), df


def char_ngram_matrix(texts: Sequence[str], ngram: int = 3, n_features: int = 2**22) -> sp.csr_matrix:
    """L2-normalised TF-IDF rows (sublinear term frequency, smoothed IDF), so that a row product is the cosine
    similarity.

    Hashing avoids building a vocabulary of every n-gram (3× faster); n-grams seen in one text only are
    dropped after normalisation, since they cannot add to any product, which roughly halves the work.
    ``n_features`` is the hash space: a caller comparing a few hundred short texts (duplicate finding after
    intake) takes a smaller one and accepts rare collisions; ``counts``, that caller's memo of texts already
    hashed (its ``ngram`` and ``n_features`` are then the memo's).

    The weighting is scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` computed directly on the sparse
    entries (``tests/triage/test_duplicates.py`` holds them equal): the transformer's input checks and its
    IDF over the whole hash space cost 4 ms a call, four times the hashing, and duplicate finding calls this
    once per reported case."""
    import scipy.sparse as sp

    if not texts:
        return sp.csr_matrix((0, 1), dtype=np.float32)
    matrix = _vectorizer(ngram, n_features).transform([normalize(t) for t in texts])
    matrix.sum_duplicates()
    n_docs = len(texts)
    weights, row_of, norms, df = _tfidf(matrix.indices, matrix.data, np.diff(matrix.indptr), n_features)
    shared = df[matrix.indices] > 1
    columns = np.flatnonzero(df > 1)
    kept = sp.csr_matrix(
        ((weights / norms[row_of])[shared],
         (row_of[shared], np.searchsorted(columns, matrix.indices[shared]))),
        shape=(n_docs, len(columns)), dtype=np.float64)
    return kept.astype(np.float32)


def cosines_with_first(texts: Sequence[str], counts: HashedCounts) -> np.ndarray:
    """The cosine of ``texts[0]`` with each of ``texts[1:]``, weighted as ``char_ngram_matrix(texts)`` weighs
    them (equal to its row products to float32 precision; ``tests/triage/test_duplicates.py``).

    Duplicate finding needs one row of the products for each new report, against the few hundred cases around
    it: the matrices, their product and scipy's checks on each cost three times the arithmetic. Here the
    first text's weights are spread over the hash space once and every other entry looks its column up in
    them."""
    if len(texts) < 2:
        return np.zeros(0)
    rows = counts.rows(texts)
    lengths = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
    indices, data = np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows])
    weights, row_of, norms, _df = _tfidf(indices, data, lengths, counts.n_features)
    first = np.zeros(counts.n_features)
    first[indices[: lengths[0]]] = weights[: lengths[0]]
    products = np.bincount(row_of, weights=weights * first[indices], minlength=len(texts))
    cosines: np.ndarray = np.clip(products[1:] / (norms[1:] * norms[0]), 0.0, 1.0)
    return cosines


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


def components(n: int, links: Sequence[tuple[int, int]]) -> np.ndarray:
    """The connected component of each of ``n`` items linked in pairs by ``links``: a label per item, equal
    labels for items joined by a chain of links (how messages and cases about one matter are grouped)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    graph = sp.coo_matrix((np.ones(len(links)), ([i for i, _ in links], [j for _, j in links])), shape=(n, n))
    labels: np.ndarray = connected_components(graph, directed=False)[1]
    return labels


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
