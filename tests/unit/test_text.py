"""Text datasets, offline: 20 Newsgroups from the repack in $DEEPCLUST_DATA_MIRROR (skipped without
it), REUTERS from small files in the lyrl2004 formats, MiniLM embeddings from the locally installed
model."""

import gzip
import hashlib
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from deepclust import data
from deepclust.data import text
from deepclust.data.remote import DownloadError, Remote
from .fake_datasets import CARS, SPACE, topic_documents, write_newsgroups_archive

REPACK = "20news-bydate-repack.tar.gz"
# Posts per group in scikit-learn's fetch_20newsgroups (bydate), groups in sorted order.
TRAIN_COUNTS = [480, 584, 591, 590, 578, 593, 585, 594, 598, 597, 600, 595, 591, 594, 593, 599, 546, 564, 465, 377]
TEST_COUNTS = [319, 389, 394, 392, 385, 395, 390, 396, 398, 397, 399, 396, 393, 396, 394, 398, 364, 376, 310, 251]


@pytest.fixture(scope="module", autouse=True)
def no_network():
    """Any network connection fails, so a test that would download cannot pass by downloading.
    Module-scoped so that it is in place before the module-scoped model fixture loads. Local
    (Unix) sockets still connect: the workflow tests' runs, built meanwhile in the background,
    start through one."""
    connect = socket.socket.connect

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    def connect_locally_only(sock, address):
        return connect(sock, address) if sock.family == socket.AF_UNIX else refuse()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect_locally_only)
        patch.setattr(socket, "getaddrinfo", refuse)
        yield


@pytest.fixture
def small_newsgroups(tmp_path):
    posts = {
        ("20news-bydate-train", "sci.space", 10): "Subject: orbit\n\nThe shuttle reached orbit around the moon.",
        ("20news-bydate-train", "sci.space", 9): "Subject: launch\n\nRocket launch to the moon and orbit.",
        ("20news-bydate-train", "rec.autos", 101): "Subject: engine\n\nMy car engine needs oil, caf\xe9 owner says.",
        ("20news-bydate-test", "rec.autos", 5): "Subject: tyres\n\nNew tyres for the car and the engine.",
        ("20news-bydate-test", "sci.space", 3): "Subject: moon\n\nThe moon orbit of the probe.",
    }
    write_newsgroups_archive(tmp_path / text.NEWSGROUPS_ARCHIVE.filename, posts)
    return tmp_path


@pytest.mark.slow
def test_newsgroups_from_the_mirror_repack(real_data, tmp_path):
    (repack,) = real_data("20 Newsgroups", "20newsgroups", [REPACK])
    (tmp_path / "mirror").mkdir()
    shutil.copyfile(repack, tmp_path / "mirror" / REPACK)  # nothing writes into the real mirror
    paths = data.download("20newsgroups", tmp_path / "res", mirror=tmp_path / "mirror")
    assert [path.name for path in paths] == [REPACK]

    X, y, meta = data.load("20newsgroups", directory=tmp_path / "res", preprocess="none")
    assert X.shape == (18846, 2000) and X.dtype == np.float32 and X.min() >= 0
    assert meta["features"] == "tfidf" and meta["n_classes"] == 20 and meta["vocabulary_size"] == 2000
    assert meta["class_names"][0] == "alt.atheism" and meta["class_names"][-1] == "talk.religion.misc"
    np.testing.assert_array_equal(np.bincount(y), np.add(TRAIN_COUNTS, TEST_COUNTS))
    # train split first, each split ordered by group
    np.testing.assert_array_equal(np.bincount(y[:11314]), TRAIN_COUNTS)
    assert np.all(np.diff(y[:11314]) >= 0) and np.all(np.diff(y[11314:]) >= 0)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)


def test_newsgroups_order_labels_and_subsets(small_newsgroups):
    texts, groups = text.newsgroups_documents(small_newsgroups / text.NEWSGROUPS_ARCHIVE.filename,
                                              text.NEWSGROUPS_SPLITS["all"])
    # split, then group, then numeric post id (9 before 10); latin-1 decoded
    assert groups == ["rec.autos", "sci.space", "sci.space", "rec.autos", "sci.space"]
    assert texts[1].startswith("Subject: launch") and "caf\xe9" in texts[0]

    X, y, meta = data.load("20newsgroups", {"max_features": 4}, directory=small_newsgroups, preprocess="none")
    assert X.shape == (5, 4) and meta["vocabulary_size"] == 4
    assert meta["terms"] == ["engine", "moon", "orbit", "subject"]  # the columns' words, in column order
    np.testing.assert_array_equal(y, [0, 1, 1, 0, 1])
    assert meta["class_names"] == ["rec.autos", "sci.space"]
    _, y_test, meta_test = data.load("20newsgroups", {"subset": "test"}, directory=small_newsgroups)
    np.testing.assert_array_equal(y_test, [0, 1])
    assert meta_test["subset"] == "test"
    with pytest.raises(ValueError, match="subset 'validation' is not one of train, test, all"):
        data.load("20newsgroups", {"subset": "validation"}, directory=small_newsgroups)


def test_reading_before_downloading_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="20news-bydate.tar.gz or 20news-bydate-repack.tar.gz not in"):
        data.load("20newsgroups", directory=tmp_path)


def test_wrong_checksum_in_the_mirror_is_refused(tmp_path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / REPACK).write_bytes(b"not the archive")
    with pytest.raises(DownloadError) as error:
        data.download("20newsgroups", tmp_path / "res", mirror=tmp_path / "mirror", retries=1)
    message = str(error.value)
    assert f"{REPACK} (md5 1437ab3b1622274f2fe9511c2e82a8f3)" in message
    assert f"wrong checksum: {tmp_path / 'mirror' / REPACK}" in message
    assert "network disabled in tests" in message  # the original archive's URL was tried, offline
    assert not any((tmp_path / "res").glob("*.tar.gz"))


def write_gzip(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="ascii") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def test_reuters_keeps_single_root_category_documents(tmp_path, monkeypatch):
    # term -> weight per document (1-based term ids, as in the lyrl2004 files)
    vectors = {
        2288: {1: 0.5, 2: 0.5, 4: 0.5, 5: 0.5},
        2286: {1: 0.6, 2: 0.8},
        2287: {1: 0.3, 3: 0.9},
        2289: {3: 1.0},
        26151: {1: 0.2, 2: 0.2, 4: 0.9, 6: 0.3},
        26152: {1: 1.0},
        26153: {3: 0.7, 6: 0.7},
        26154: {1: 0.1, 2: 0.4, 3: 0.3, 4: 0.2, 5: 0.8},
    }
    files = {"lyrl2004_vectors_train.dat.gz": [2288, 2286, 2287, 2289],  # not in id order
             "lyrl2004_vectors_test_pt0.dat.gz": [26151], "lyrl2004_vectors_test_pt1.dat.gz": [26152],
             "lyrl2004_vectors_test_pt2.dat.gz": [26153], "lyrl2004_vectors_test_pt3.dat.gz": [26154]}
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, doc_ids in files.items():
        write_gzip(mirror / name, [f"{doc}  " + " ".join(f"{term}:{weight}" for term, weight in vectors[doc].items())
                                   for doc in doc_ids])
    topics = {2286: ["C15", "C151", "CCAT"], 2287: ["CCAT", "GCAT"], 2288: ["M11", "MCAT"], 2289: ["E11"],
              26151: ["E12", "ECAT"], 26152: ["GCAT"], 26153: ["ECAT", "MCAT"], 26154: ["CCAT"]}
    write_gzip(mirror / "rcv1v2.topics.qrels.gz",
               [f"{category} {doc} 1" for doc in sorted(topics) for category in topics[doc]])

    def fake(remote):
        return Remote(remote.filename, sha256=hashlib.sha256((mirror / remote.filename).read_bytes()).hexdigest())

    monkeypatch.setattr(text, "RCV1_VECTORS", tuple(fake(remote) for remote in text.RCV1_VECTORS))
    monkeypatch.setattr(text, "RCV1_TOPICS", fake(text.RCV1_TOPICS))
    data.download("reuters", tmp_path / "res", mirror=mirror)
    X, y, meta = data.load("reuters", {"max_features": 3}, directory=tmp_path / "res", preprocess="none")

    kept = [2286, 2288, 26151, 26152, 26154]  # one root category each, by document id
    np.testing.assert_array_equal(y, [0, 3, 1, 2, 0])  # CCAT, MCAT, ECAT, GCAT, CCAT
    assert meta["class_names"] == ["CCAT", "ECAT", "GCAT", "MCAT"] and meta["vocabulary_size"] == 3
    # document frequency among the kept documents: term 1 (5), 2 (4), 4 (3); term 3 is frequent
    # only in dropped documents
    expected = np.array([[vectors[doc].get(term, 0.0) for term in (1, 2, 4)] for doc in kept])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert X.shape == (5, 3) and X.dtype == np.float32
    np.testing.assert_allclose(X, expected, rtol=1e-6)


MINILM_SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "The new movie is awesome.",
                    "The stock market fell sharply today."]


@pytest.fixture(scope="module")
def minilm():
    """Embeddings of MINILM_SENTENCES, with the hub told to stay offline."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        return text.minilm_embeddings(MINILM_SENTENCES)


def test_minilm_embeddings_are_unit_norm_and_semantic(minilm):
    X, meta = minilm
    assert X.shape == (4, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    similarity = X @ X.T
    assert similarity[0, 1] > 0.5 > max(similarity[0, 2], similarity[0, 3])
    # sentence-transformers 6.2.0's SentenceTransformer(...).encode, first six values
    np.testing.assert_allclose(X[0, :6], [0.03324, 0.00441, -0.00628, 0.04838, -0.13870, -0.03362], atol=1e-4)
    assert meta["feature_extractor"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert meta["weights_sha256"].startswith("53aa5117")


def test_minilm_is_deterministic_and_independent_of_batching(minilm):
    X, _ = minilm
    np.testing.assert_array_equal(text.minilm_embeddings(MINILM_SENTENCES)[0], X)
    alone = np.vstack([text.minilm_embeddings([sentence])[0] for sentence in MINILM_SENTENCES[:2]])
    np.testing.assert_allclose(alone, X[:2], atol=1e-5)


def test_minilm_reads_256_word_pieces():
    words = " ".join(f"word{i % 7}" if i % 2 else "planet" for i in range(300))  # > 256 pieces
    X, _ = text.minilm_embeddings([words, words + " unrelated tail about cooking",
                                   " ".join(words.split()[:130]) + " cooking recipes"])
    np.testing.assert_allclose(X[0], X[1], atol=1e-6)  # text past 256 pieces is cut off
    assert not np.allclose(X[0], X[2], atol=1e-3)  # ...but not already at tokenizer.json's 128


def test_newsgroups_minilm_features(small_newsgroups):
    X, y, meta = data.load("20newsgroups", {"features": "minilm"}, directory=small_newsgroups, preprocess="none")
    assert X.shape == (5, 384) and meta["features"] == "minilm" and meta["max_tokens"] == 256
    assert data.source("20newsgroups").network_features == {"minilm"}
    with pytest.raises(ValueError, match="features 'minilm' is not available for reuters; valid: tfidf"):
        data.load("reuters", {"features": "minilm"}, directory=small_newsgroups)


# ----------------------------------------------------------------------------- word2vec features

def test_word2vec_documents_are_tfidf_weighted_means_of_the_corpus_word_vectors():
    from gensim.models import Word2Vec

    texts = [*topic_documents(), "zyzzyva quokka"]  # the last one's words are seen once: no vectors
    X, meta = text.word2vec_embeddings(texts)
    assert X.shape == (len(texts), text.WORD2VEC["vector_size"]) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X[:-1], axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(X[-1], 0)
    assert meta["documents_without_vectors"] == 1 and meta["vocabulary_size"] == len(SPACE) + len(CARS)
    assert meta["word2vec"]["seed"] == 0 and meta["feature_extractor_package"].startswith("gensim ")

    # a straightforward reference: the same training, then a loop over each document's words
    vectorizer = text.tfidf_vectorizer(max_features=None)
    weights = vectorizer.fit_transform(texts).toarray()
    analyse = vectorizer.build_analyzer()
    model = Word2Vec([analyse(t) for t in texts], **text.WORD2VEC, seed=0, workers=1)
    for row, document in enumerate(texts[:-1]):
        words = sorted(set(analyse(document)))
        w = np.array([weights[row, vectorizer.vocabulary_[word]] for word in words])
        mean = (w[:, None] * np.array([model.wv[word] for word in words])).sum(0) / w.sum()
        np.testing.assert_allclose(X[row], mean / np.linalg.norm(mean), rtol=1e-4, atol=1e-5)

    # documents of one topic lie nearer each other than the other topic's
    similarity = X[:-1] @ X[:-1].T
    same = np.equal.outer(np.arange(len(texts) - 1) % 2, np.arange(len(texts) - 1) % 2)
    assert similarity[same].mean() > similarity[~same].mean() + 0.1


def test_word2vec_features_repeat_across_processes():
    """One worker thread and a seed: the same vectors in a new process with another hash salt."""
    import os
    import subprocess
    import sys

    script = ("import sys, numpy as np; from deepclust.data import text; "
              "sys.stdout.buffer.write(text.word2vec_embeddings(sys.argv[1:])[0].tobytes())")
    texts = topic_documents(n_per_topic=10)
    outputs = [subprocess.run([sys.executable, "-c", script, *texts], capture_output=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": salt}).stdout for salt in ("1", "2")]
    assert outputs[0] == outputs[1] == text.word2vec_embeddings(texts)[0].tobytes()


def test_newsgroups_word2vec_features_through_the_registry(tmp_path):
    posts = {("20news-bydate-train", "sci.space" if i % 2 == 0 else "rec.autos", i): document
             for i, document in enumerate(topic_documents())}
    write_newsgroups_archive(tmp_path / text.NEWSGROUPS_ARCHIVE.filename, posts)
    X, y, meta = data.load("20newsgroups", {"features": "word2vec"}, directory=tmp_path, preprocess="none")
    assert X.shape == (len(posts), 100) and meta["features"] == "word2vec" and "word2vec" in meta
    assert sorted(np.bincount(y)) == [40, 40]
    assert "word2vec" not in data.source("20newsgroups").network_features  # trained on the CPU, no GPU tag
    with pytest.raises(ValueError, match="features 'word2vec' is not available for reuters; valid: tfidf"):
        data.load("reuters", {"features": "word2vec"}, directory=tmp_path)
