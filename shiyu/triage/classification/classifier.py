"""The triage model: TF-IDF on jieba words and on character 1–3-grams, a linear SVM, self-training on an
optional unlabelled pool, taxonomy names as extra pseudo-documents, and temperature-scaled confidence.

Why this shape: a city starts with a few hundred labelled messages. Words carry the topic, character n-grams
rescue what jieba splits badly (place names, new terms); the union beats either alone. Self-training adds the
unlabelled messages the model is surest about (a fixed number per class and round, so big classes do not
swamp small ones) and fills vocabulary the labelled set lacks. The category tree's lower-level names
("物业服务", "拖欠工程款"…) are short documents that describe each class in the board's own words.
LinearSVC scores are not probabilities; a single temperature fitted on held-out scores of the labelled data
turns them into confidences that an auto-dispatch threshold can rely on.

scikit-learn and SciPy are imported where they are used, not with the module: they take over a second to
import, and every ``shiyu`` command loads this module (the triage domain declares its jobs) while few of them
train or score. Loading a model file imports what its pickle needs.
"""

from __future__ import annotations

import io
import json
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shiyu.triage import TriageError
from shiyu.triage.classification.evaluation import evaluate
from shiyu.triage.text import normalize, words

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.pipeline import FeatureUnion
    from sklearn.svm import LinearSVC

FORMAT_VERSION = 1
MAGIC = b"SHIYU-TRIAGE-MODEL\n"
Progress = Callable[[str], None]


@dataclass
class Taxonomy:
    """First-level class → descriptive lower-level category names (二级/三级分类), "其他" left out."""

    names: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[str]]) -> Taxonomy:
        names: dict[str, list[str]] = {}
        for top, *lower in rows:
            if not normalize(top):
                continue
            bucket = names.setdefault(normalize(top), [])
            for name in map(normalize, lower):
                if name and name != "其他" and name not in bucket:
                    bucket.append(name)
        return cls(names)

    def documents(self, labels: Iterable[str], per_document: int = 8) -> tuple[list[str], list[str]]:
        """Pseudo-documents for the classes being learned; classes outside the label set are ignored."""
        texts: list[str] = []
        owners: list[str] = []
        for label in labels:
            terms = self.names.get(label, [])
            for start in range(0, len(terms), per_document):
                texts.append(" ".join([label, *terms[start:start + per_document]]))
                owners.append(label)
        return texts, owners


def _featurizer() -> FeatureUnion:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("words", TfidfVectorizer(analyzer=words, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)),
    ])


class TriageModel:
    """fit → predict_proba / predict (label + confidence) → save / load."""

    def __init__(self, c: float = 1.0, rounds: int = 3, per_class: int = 50, calibration_folds: int = 5) -> None:
        self.c = c
        self.rounds = rounds
        self.per_class = per_class
        self.calibration_folds = calibration_folds
        self.header: dict[str, Any] = {}

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        unlabeled: Sequence[str] = (),
        taxonomy: Taxonomy | None = None,
        progress: Progress | None = None,
    ) -> TriageModel:
        import scipy.sparse as sp

        say = progress or (lambda _msg: None)
        docs = [normalize(t) for t in texts]
        y = np.asarray([normalize(v) for v in labels], dtype=object)
        _check_labels(y)
        self.classes_ = np.array(sorted(set(y)), dtype=object)

        tax_docs, tax_y = (taxonomy or Taxonomy()).documents(self.classes_)
        say(f"特征 / features: {len(docs)} 条标注 labelled, {len(tax_docs)} 条分类树文档 taxonomy documents")
        self.features_ = _featurizer().fit(docs + tax_docs)
        base_x = self.features_.transform(docs + tax_docs).tocsr()
        base_y = np.concatenate([y, np.asarray(tax_y, dtype=object)])

        pool = _pool(unlabeled, set(docs))
        pseudo_x, pseudo_y = self._self_train(base_x, base_y, pool, say)
        train_x = sp.vstack([base_x, pseudo_x]).tocsr()
        train_y = np.concatenate([base_y, pseudo_y])

        say("校准置信度 / calibrating confidence")
        self.temperature_ = self._fit_temperature(base_x[: len(docs)], y, base_x[len(docs):], base_y[len(docs):],
                                                  pseudo_x, pseudo_y)
        self.svm_ = self._svm().fit(train_x, train_y)
        self.header = {
            "format_version": FORMAT_VERSION,
            "labels": [str(c) for c in self.classes_],
            "training_size": len(docs),
            "unlabeled_size": len(pool),
            "pseudo_labeled": int(len(pseudo_y)),
            "taxonomy_documents": len(tax_docs),
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "temperature": self.temperature_,
        }
        return self

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        return _scores(self.svm_, self.features_.transform([normalize(t) for t in texts]))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        from scipy.special import softmax

        proba: np.ndarray = softmax(self.decision_function(texts) / self.temperature_, axis=1)
        return proba

    def proba_one(self, text: str) -> np.ndarray:
        """``predict_proba([text])[0]`` without scikit-learn's per-call checks, which cost most of the
        millisecond one report's suggestion took: the same tokens, counts, sublinear TF-IDF weights and
        l2 norm per vectoriser as ``features_.transform``, read straight off the fitted vocabularies, then
        the SVM's scores on just the columns the text has."""
        from scipy.special import softmax

        doc = normalize(text)
        columns: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        offset = 0
        for _name, vectorizer in self.features_.transformer_list:
            vocabulary = vectorizer.vocabulary_
            counts = Counter(vocabulary[t] for t in vectorizer.build_analyzer()(doc) if t in vocabulary)
            index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weight = (np.log(tf) + 1 if vectorizer.sublinear_tf else tf) * vectorizer.idf_[index]
            norm = np.sqrt(weight @ weight)
            columns.append(index + offset)
            weights.append(weight / norm if norm else weight)
            offset += len(vectorizer.idf_)
        index = np.concatenate(columns)
        scores = self.svm_.coef_[:, index] @ np.concatenate(weights) + self.svm_.intercept_
        if len(scores) == 1:  # two classes: one score, for the second class (as ``_scores`` reads it)
            scores = np.array([-scores[0], scores[0]])
        proba: np.ndarray = softmax(scores / self.temperature_)
        return proba

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Labels and their confidence (the calibrated probability of the chosen label)."""
        if not texts:
            return [], np.zeros(0)
        proba = self.predict_proba(texts)
        best = proba.argmax(axis=1)
        return [str(self.svm_.classes_[i]) for i in best], proba[np.arange(len(best)), best]

    def save(self, path: str | Path) -> None:
        """One file: a magic line, a JSON header line (readable without unpickling), then the pickled model."""
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        header = json.dumps(self.header, ensure_ascii=False).encode("utf-8")
        try:
            Path(path).write_bytes(MAGIC + header + b"\n" + buffer.getvalue())
        except OSError as exc:
            raise TriageError("triage.unwritable_file", "无法写入文件 {path}：{reason}",
                              "Cannot write {path}: {reason}", path=str(path), reason=exc.strerror) from None

    def _svm(self) -> LinearSVC:
        from sklearn.svm import LinearSVC

        return LinearSVC(C=self.c)

    def _self_train(
        self, x: sp.csr_matrix, y: np.ndarray, pool: list[str], say: Progress
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """Each round adds, per predicted class, the ``per_class`` pool messages with the widest margin
        between the best and second-best class, then relabels everything added so far with the new model."""
        import scipy.sparse as sp

        empty = (x[:0], np.zeros(0, dtype=object))
        if not pool or self.rounds == 0:
            return empty
        say(f"自训练 / self-training on {len(pool)} 条未标注 unlabelled messages")
        pool_x = self.features_.transform(pool)
        svm = self._svm().fit(x, y)
        used = np.zeros(pool_x.shape[0], dtype=bool)
        chosen_y = empty[1]
        for round_no in range(1, self.rounds + 1):
            scores = _scores(svm, pool_x)
            top2 = np.sort(scores, axis=1)[:, -2:]
            margin = top2[:, 1] - top2[:, 0]
            best = scores.argmax(axis=1)
            for k in range(len(svm.classes_)):
                candidates = np.flatnonzero((best == k) & ~used)
                used[candidates[np.argsort(-margin[candidates])][: self.per_class]] = True
            chosen_x = pool_x[used]
            chosen_y = svm.classes_[_scores(svm, chosen_x).argmax(axis=1)]
            svm = self._svm().fit(sp.vstack([x, chosen_x]), np.concatenate([y, chosen_y]))
            say(f"  第 {round_no} 轮 / round {round_no}: {int(used.sum())} 条伪标签 pseudo-labels")
        return pool_x[used], chosen_y

    def _fit_temperature(self, x: sp.csr_matrix, y: np.ndarray, extra_x: sp.csr_matrix, extra_y: np.ndarray,
                         pseudo_x: sp.csr_matrix, pseudo_y: np.ndarray) -> float:
        """Held-out SVM scores of the labelled messages (each scored by a model that did not see it) fix
        the softmax temperature by maximum likelihood."""
        import scipy.sparse as sp
        from scipy.optimize import minimize_scalar
        from scipy.special import log_softmax
        from sklearn.model_selection import StratifiedKFold

        folds = min(self.calibration_folds, int(min(np.unique(y, return_counts=True)[1])))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        scores = np.zeros((len(y), len(self.classes_)))
        for train, test in splitter.split(np.zeros(len(y)), y):
            svm = self._svm().fit(sp.vstack([x[train], extra_x, pseudo_x]),
                                  np.concatenate([y[train], extra_y, pseudo_y]))
            scores[test] = _scores(svm, x[test])
        truth = np.searchsorted(self.classes_, y)

        def nll(log_t: float) -> float:
            return -float(log_softmax(scores / np.exp(log_t), axis=1)[np.arange(len(y)), truth].mean())

        return float(np.exp(minimize_scalar(nll, bounds=(-5.0, 3.0), method="bounded").x))


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    unlabeled: Sequence[str] = (),
    taxonomy: Taxonomy | None = None,
    progress: Progress | None = None,
    holdout: float = 0.2,
) -> TriageModel:
    """Fit on a stratified part, score the held-out rest for the model header, then refit on everything.

    Held-out texts are removed from the unlabelled pool of the first fit, so the recorded figures are
    measured on messages the model has never seen in any form.
    """
    say = progress or (lambda _msg: None)
    norm_labels = [normalize(v) for v in labels]
    _check_labels(np.asarray(norm_labels, dtype=object))
    metrics = None
    if min(np.unique(norm_labels, return_counts=True)[1]) * holdout >= 1:
        from sklearn.model_selection import train_test_split

        train_i, test_i = train_test_split(np.arange(len(texts)), test_size=holdout, stratify=norm_labels,
                                           random_state=0)
        say(f"留出评估 / held-out evaluation: 训练 train {len(train_i)}, 留出 held out {len(test_i)}")
        held_out = {normalize(texts[i]) for i in test_i}
        pool = [t for t in unlabeled if normalize(t) not in held_out]
        trial = TriageModel().fit([texts[i] for i in train_i], [norm_labels[i] for i in train_i], pool, taxonomy)
        predicted, confidence = trial.predict([texts[i] for i in test_i])
        report = evaluate([norm_labels[i] for i in test_i], predicted, confidence)
        metrics = {"size": report.size, "accuracy": report.accuracy, "macro_f1": report.macro_f1, "ece": report.ece}
        say(f"  留出 / held out: accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}, ECE {report.ece:.3f}")
    else:
        say("留出评估跳过：某些类别样本太少 / held-out evaluation skipped: some labels have too few examples")
    say("全量训练 / training on all labelled messages")
    model = TriageModel().fit(texts, norm_labels, unlabeled, taxonomy, progress=say)
    model.header["holdout"] = metrics
    return model


def _scores(svm: LinearSVC, x: sp.csr_matrix) -> np.ndarray:
    scores = svm.decision_function(x)
    return scores if scores.ndim == 2 else np.column_stack([-scores, scores])


def _pool(unlabeled: Sequence[str], labelled: set[str]) -> list[str]:
    """Distinct non-empty unlabelled texts that are not themselves labelled training texts."""
    seen = set(labelled)
    pool = []
    for text in unlabeled:
        doc = normalize(text)
        if doc and doc not in seen:
            seen.add(doc)
            pool.append(doc)
    return pool


def _check_labels(y: np.ndarray) -> None:
    if len(y) == 0 or any(not v for v in y):
        empty = [i + 1 for i, v in enumerate(y) if not v][:10]
        raise TriageError("triage.empty_label", "标签列为空（数据行 {rows}）",
                          "The label column is empty (data rows {rows})", rows=", ".join(map(str, empty)) or "-")
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        raise TriageError("triage.one_class", "至少需要两个不同的类别，只有：{labels}",
                          "At least two different labels are needed; found only: {labels}", labels=", ".join(labels))
    rare = [str(lab) for lab, n in zip(labels, counts, strict=True) if n < 2]
    if rare:
        raise TriageError("triage.rare_label", "每个类别至少需要 2 条样本：{labels}",
                          "Each label needs at least 2 examples: {labels}", labels=", ".join(rare))


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header alone, e.g. to show what a model file is without trusting its pickle."""
    with _open_model(path) as fh:
        return _header(fh, path)


def load(path: str | Path) -> TriageModel:
    """Load a model file written by ``save``. Like any pickle, only load files from a trusted source."""
    with _open_model(path) as fh:
        header = _header(fh, path)
        if header.get("format_version") != FORMAT_VERSION:
            raise TriageError("triage.model_version", "模型文件格式版本 {found} 不受支持（需要 {wanted}），请重新训练",
                              "Model format version {found} is not supported (need {wanted}); retrain it",
                              found=header.get("format_version"), wanted=FORMAT_VERSION)
        model = pickle.load(fh)
    if not isinstance(model, TriageModel):
        raise _not_a_model(path)
    return model


def _open_model(path: str | Path) -> io.BufferedReader:
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise TriageError("triage.unreadable_model", "无法读取模型文件 {path}：{reason}",
                          "Cannot read model file {path}: {reason}", path=str(path), reason=exc.strerror) from None


def _header(fh: io.BufferedReader, path: str | Path) -> dict[str, Any]:
    if fh.read(len(MAGIC)) != MAGIC:
        raise _not_a_model(path)
    try:
        header: dict[str, Any] = json.loads(fh.readline().decode("utf-8"))
        return header
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _not_a_model(path) from None


def _not_a_model(path: str | Path) -> TriageError:
    return TriageError("triage.not_a_model", "{path} 不是分拨模型文件", "{path} is not a triage model file",
                       path=str(path))
