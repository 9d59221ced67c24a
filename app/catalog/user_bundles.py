"""User bundles (``model_store/user/<name>/``): the corpus they keep, who owns them, who sees them.

A user bundle is trained by the "Train your own" page or by ``python -m app.training --corpus FILE``;
both write the same thing: the models, and a gzipped copy of the corpus's documents (one a line)
listed in the manifest as the artifact ``corpus`` with its sha256, so the quiz deals real
sentences from it and a later session goes on training without the upload.

Ownership lives in the manifest: ``owner`` is the token of the browser that trained the bundle
(None for the command line: the machine's operator) and ``shared`` says whether everyone on the
server may use it. Others see a shared bundle read-only; an unshared one is invisible to them and
is not a room deck in the quiz. Only the owner may retrain, share or delete a bundle.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

from app.data.corpus import Corpus, read_documents
from app.data.uploads import UploadedCorpus
from app.storage import store

CORPUS_FILE = "corpus.txt.gz"  # the documents a user bundle was trained on, one per line
OWNER_TOKEN = re.compile(r"[0-9a-f]{32}")  # what browser_owner hands out: uuid4().hex


# ---------------------------------------------------------------- the kept corpus

def keep_corpus(corpus: Corpus, staging: str, bundle: str) -> Corpus:
    """Store the corpus's documents in the staging copy of ``bundle`` (gzipped, one a line:
    normalised documents hold no line breaks) unless it keeps them already. Returns the corpus
    as the bundle's models will cite it: same documents, same sha256 (of the uploaded bytes)."""
    path = store.bundle_dir(staging) / CORPUS_FILE
    recorded = store.read_manifest(staging)["artifacts"].get("corpus") if (
        store.bundle_dir(staging) / store.MANIFEST).is_file() else None
    kept = UploadedCorpus(corpus.name, Path(corpus.path.name), corpus.documents, notices=corpus.notices,
                          content_sha256=corpus.sha256, stored_at=store.bundle_dir(bundle) / CORPUS_FILE)
    if recorded is None or recorded["corpus"]["sha256"] != corpus.sha256 or not path.is_file():
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            f.write("\n".join(corpus.documents).encode("utf-8"))
        store.record_artifact(staging, "corpus", path, kind="corpus", corpus=kept.card())
    return kept


def corpus_path(bundle: str) -> Path | None:
    """The corpus file a user bundle keeps, sha256-checked; None if it keeps none or it is damaged.
    ``load_corpus(str(path))`` reads the same documents, so the same split, the models used."""
    try:
        if "corpus" not in store.read_manifest(bundle)["artifacts"]:
            return None
        return store.verified_path(bundle, "corpus")
    except store.StoreError:
        return None


def load_saved_corpus(bundle: str) -> Corpus:
    """The corpus a user bundle keeps, checksum-verified, with the identity (sha256) it was
    trained under, so checkpoints resume and the bundle's other models are kept."""
    card = store.artifact_card(bundle, "corpus")["corpus"]
    path = store.verified_path(bundle, "corpus")
    return UploadedCorpus(card["name"], Path(card["file"]), read_documents(path), content_sha256=card["sha256"],
                          stored_at=path)


# ---------------------------------------------------------------- owner and sharing

def _manifest(bundle: str) -> dict | None:
    try:
        return store.cached_manifest(bundle)
    except store.StoreError:
        return None


def owner_of(bundle: str) -> str | None:
    """The browser token that trained a user bundle; None for built-in and command-line bundles."""
    manifest = _manifest(bundle) if store.is_user_bundle(bundle) else None
    return (manifest or {}).get("owner")


def is_shared(bundle: str) -> bool:
    """Whether everyone on the server may use it: built-in bundles, command-line user bundles
    (no owner), and user bundles their owner shared. A room deck must be shared."""
    if not store.is_user_bundle(bundle):
        return True
    manifest = _manifest(bundle)
    if manifest is None:
        return False
    return manifest.get("owner") is None or bool(manifest.get("shared"))


def can_use(bundle: str, viewer: str | None) -> bool:
    """The viewer (a browser's owner token, or None) may see and use the bundle's models."""
    return is_shared(bundle) or (viewer is not None and owner_of(bundle) == viewer)


def can_change(bundle: str, viewer: str | None) -> bool:
    """The viewer may retrain, share or delete it: its owner, or anyone for a name not taken yet.
    ``viewer`` None is the command line: it changes its own bundles (no owner) and never a
    browser's, which in turn never changes the command line's."""
    if not (store.bundle_dir(bundle) / store.MANIFEST).is_file():
        return True
    return owner_of(bundle) == viewer


def claim(staging: str, owner: str | None, previous: dict | None) -> None:
    """Write the owner and sharing into a staged bundle's manifest (kept from ``previous``, the
    bundle's manifest before retraining, when there was one)."""
    manifest = store.read_manifest(staging)
    manifest["owner"] = owner
    manifest["shared"] = bool((previous or {}).get("shared")) if owner is not None else True
    store.write_manifest(staging, manifest)


class NotYours(PermissionError):
    """A browser tried to change a bundle it does not own; the message says whose it is."""


def _check_owner(bundle: str, viewer: str | None) -> None:
    if not store.is_user_bundle(bundle) or not can_change(bundle, viewer):
        raise NotYours(f"{bundle} belongs to someone else: you can use it, not change it.")


def set_shared(bundle: str, viewer: str | None, shared: bool) -> None:
    """Share a bundle with everyone on the server (read-only for them), or stop sharing it."""
    _check_owner(bundle, viewer)
    manifest = store.read_manifest(bundle)
    manifest["shared"] = shared
    store.write_manifest(bundle, manifest)


def delete(bundle: str, viewer: str | None) -> None:
    """Delete the bundle (models and kept corpus); its checkpoints go with it."""
    _check_owner(bundle, viewer)
    shutil.rmtree(store.bundle_dir(bundle), ignore_errors=True)
    shutil.rmtree(store.CHECKPOINTS / bundle, ignore_errors=True)


def saved_corpora(viewer: str | None) -> list[str]:
    """The viewer's own user bundles that keep their corpus (to go on training them): another
    browser's text is never offered, shared or not."""
    return [b for b in store.bundles() if store.is_user_bundle(b) and can_change(b, viewer)
            and viewer is not None and corpus_path(b) is not None]
