import numpy as np
import pytest

from shiyu.triage import TriageError
from shiyu.triage.classification.classifier import Taxonomy, TriageModel, load, read_header, train
from tests.triage.conftest import make_rows


def _texts(rows):
    return [r["主题"] + "\n\t" + r["详情"] for r in rows]


def test_fit_predict_and_probabilities(rows):
    test = make_rows(30, seed=7)
    model = TriageModel().fit(_texts(rows), [r["标签"] for r in rows])
    predicted, confidence = model.predict(_texts(test))
    accuracy = np.mean([p == r["标签"] for p, r in zip(predicted, test, strict=True)])
    assert accuracy >= 0.9
    assert np.allclose(model.predict_proba(_texts(test)).sum(axis=1), 1.0)
    assert ((confidence > 1 / 3) & (confidence <= 1)).all()


@pytest.mark.parametrize("classes", [3, 2])
def test_one_text_scores_as_a_batch_does(rows, classes):
    """The single-text path intake uses gives the batch path's probabilities, for texts with unknown
    words, repeated words, none at all, and for a two-class model (whose SVM keeps one score)."""
    kept = [r for r in rows if r["标签"] in sorted({r["标签"] for r in rows})[:classes]]
    model = TriageModel().fit(_texts(kept), [r["标签"] for r in kept])
    texts = [*_texts(make_rows(30, seed=9)), "", "？？", "zzz 未知词语", "公交 公交 公交 公交线路"]
    for text in texts:
        assert np.allclose(model.proba_one(text), model.predict_proba([text])[0], rtol=0, atol=1e-12), text


def test_self_training_and_taxonomy_are_used(rows):
    pool = _texts(make_rows(45, seed=3)) + _texts(rows[:5])
    tree = Taxonomy.from_rows([("交通运输", "公共交通", "公交线路"), ("交通运输", "其他", "其他"),
                               ("农村农业", "农业", "种子")])
    model = TriageModel(rounds=2, per_class=5).fit(_texts(rows), [r["标签"] for r in rows], pool, tree)
    assert model.header["unlabeled_size"] == 45  # labelled texts are not pseudo-labelled again
    assert model.header["pseudo_labeled"] == 30
    assert model.header["taxonomy_documents"] == 1  # only classes being learned, "其他" dropped
    assert model.predict(["公交线路 公共交通"])[0] == ["交通运输"]


def test_save_load_keeps_header_and_predictions(tmp_path, rows):
    model = train(_texts(rows), [r["标签"] for r in rows])
    model.save(tmp_path / "m.bin")
    header = read_header(tmp_path / "m.bin")
    assert header["format_version"] == 1
    assert header["labels"] == ["交通运输", "教育文体", "环境保护"]
    assert header["training_size"] == 60
    assert header["holdout"]["size"] == 12 and header["holdout"]["macro_f1"] > 0.8
    again = load(tmp_path / "m.bin")
    assert again.predict(_texts(rows[:5]))[0] == model.predict(_texts(rows[:5]))[0]


def test_not_a_model_file(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"hello")
    with pytest.raises(TriageError) as err:
        load(tmp_path / "x.bin")
    assert err.value.code == "triage.not_a_model"


@pytest.mark.parametrize("labels, code", [(["a", "a", "a", "a"], "triage.one_class"),
                                          (["a", "a", "b", ""], "triage.empty_label"),
                                          (["a", "a", "a", "b"], "triage.rare_label")])
def test_label_mistakes(labels, code):
    with pytest.raises(TriageError) as err:
        TriageModel().fit(["噪音", "油烟", "学校", "公交"], labels)
    assert err.value.code == code
