from shiyu.triage.duplicates.similarity import find_duplicates, near_duplicates_of
from tests.triage.conftest import make_rows


def test_planted_exact_and_near_duplicates_are_found():
    texts = [r["主题"] + r["详情"] * 3 for r in make_rows(200, seed=2)]
    texts.append("\n\t" + texts[10] + "\u3000")  # exact after normalisation
    texts.append("您好！" + texts[50] + "谢谢")  # near
    pairs = find_duplicates(texts, threshold=0.9)
    found = {(p.first, p.second): p.exact for p in pairs}
    assert found[(10, 200)] is True
    assert found[(50, 201)] is False
    assert len(pairs) <= 4


def test_empty_and_tiny_inputs():
    assert find_duplicates([]) == []
    pairs = find_duplicates(["噪音", "噪音", "油烟"])
    assert [(p.first, p.second, p.exact) for p in pairs] == [(0, 1, True)]


def test_near_duplicates_of_marks_corpus_copies():
    rows = make_rows(20, seed=1)
    corpus = [r["主题"] + r["详情"] for r in rows]
    queries = [corpus[3] + "谢谢", "完全不同的一段文字内容"]
    assert near_duplicates_of(queries, corpus).tolist() == [i == 3 for i in range(20)]


def test_the_weighting_is_scikit_learns_tfidf_with_single_text_ngrams_dropped():
    """char_ngram_matrix computes the transformer's weights itself (it was the cost of duplicate finding):
    the same cosines as HashingVectorizer → TfidfTransformer(sublinear_tf=True) → the shared columns."""
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    from shiyu.triage.duplicates.similarity import char_ngram_matrix
    from shiyu.triage.text import normalize

    texts = [r["主题"] + r["详情"] for r in make_rows(60, seed=5)] + ["", "噪音噪音噪音", "路灯不亮"]
    for n_features in (2**16, 2**22):
        hashed = HashingVectorizer(analyzer="char", ngram_range=(3, 3), n_features=n_features,
                                   alternate_sign=False, norm=None).transform([normalize(t) for t in texts])
        reference = TfidfTransformer(sublinear_tf=True).fit_transform(hashed).tocsc()
        reference = reference[:, np.flatnonzero(np.diff(reference.indptr) > 1)].tocsr()
        mine = char_ngram_matrix(texts, n_features=n_features)
        assert mine.shape == reference.shape
        assert np.allclose(mine.toarray(), reference.toarray(), atol=1e-6)
        assert np.allclose((mine @ mine.T).toarray(), (reference @ reference.T).toarray(), atol=1e-5)


def test_the_cosines_with_the_first_text_from_remembered_counts_are_the_matrix_products():
    """Duplicate finding keeps the hashed counts of recent texts (``HashedCounts``) and takes one row of the
    products (``cosines_with_first``): with texts repeated, seen before, new, evicted since, empty and too
    short for a 3-gram, that row equals the products of a matrix hashed from scratch."""
    import numpy as np

    from shiyu.triage.duplicates.similarity import HashedCounts, char_ngram_matrix, cosines_with_first

    texts = [r["主题"] + r["详情"] for r in make_rows(40, seed=9)] + ["", "路灯", "路灯不亮"]
    memo = HashedCounts(size=25, n_features=2**16)
    for batch in (texts[:10], texts[5:30] + texts[:3], texts[20:] + texts[20:25], texts, texts[::-1],
                  ["", *texts[:5]], texts[:1]):
        fresh = char_ngram_matrix(batch, n_features=2**16)
        expected = np.asarray((fresh[1:] @ fresh[0].T).todense()).ravel().clip(0.0, 1.0)
        got = cosines_with_first(batch, memo)
        assert got.shape == expected.shape
        assert np.allclose(got, expected, atol=1e-6)
        assert len(memo) <= 25
    assert cosines_with_first([texts[3], texts[3] + "谢谢"], memo)[0] > 0.9
