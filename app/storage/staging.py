"""Atomic bundles: training writes into a private staging copy of a bundle and swaps it into the model
store with renames, so an interrupted run never leaves a half-written bundle (app/training/train.py uses it).

``staged_bundle`` yields the copy's name; ``recover_staging`` (run when the "Train your own" page
starts) puts back a bundle caught between its two renames and deletes half-trained copies of dead
processes. ``safe_name`` turns any name into a bundle's folder name.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.storage import store

STAGING = ".staging"  # under model_store/user/: not a bundle name (safe_name never starts with ".")


def safe_name(name: str) -> str:
    """Letters, digits, - and _ only, at most 40 characters (it becomes a folder name)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:40]
    return cleaned or "corpus"


def _staging_root() -> Path:
    return store.STORE / "user" / STAGING


@contextmanager
def staged_bundle(bundle: str, keep_existing: bool = True) -> Iterator[str]:
    """Yield the name of a private copy of ``bundle`` to train into; on success swap it into
    place with renames, on any exception delete it. ``keep_existing=False`` starts empty
    (the bundle's old models, say from another corpus, are replaced, not merged)."""
    final = store.bundle_dir(bundle)
    token = f"{safe_name(bundle)}-{os.getpid()}-{uuid.uuid4().hex[:8]}"  # the pid: see recover_staging
    staging = _staging_root() / token
    staging.parent.mkdir(parents=True, exist_ok=True)
    if keep_existing and final.is_dir():
        shutil.copytree(final, staging)
    else:
        staging.mkdir()
    try:
        yield store.user_bundle(f"{STAGING}/{token}")
        if not (staging / store.MANIFEST).is_file():
            raise RuntimeError(f"training wrote nothing into {staging}")
        manifest = store.read_manifest(store.user_bundle(f"{STAGING}/{token}"))
        manifest["bundle"] = bundle
        store.write_manifest(store.user_bundle(f"{STAGING}/{token}"), manifest)
        old = _staging_root() / f"old-{token}"
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            final.rename(old)  # from here to the next rename, recover_staging() can undo a crash
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_staging() -> list[str]:
    """After a crash or restart: put back a bundle caught between its two renames and delete
    half-trained staging copies. Folders of a process still alive (another server, a CLI run)
    are left alone. Returns the folders it removed."""
    root = _staging_root()
    removed = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        pid = folder.name.removeprefix("old-").rsplit("-", 2)[-2] if folder.name.count("-") >= 2 else ""
        if pid.isdigit() and _process_alive(int(pid)):
            continue
        if folder.name.startswith("old-"):
            try:
                bundle = store.read_manifest(store.user_bundle(f"{STAGING}/{folder.name}"))["bundle"]
            except store.StoreError:
                bundle = None
            if bundle and not store.bundle_dir(bundle).exists():
                folder.rename(store.bundle_dir(bundle))
                continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def bundle_corpus_sha(bundle: str) -> str | None:
    """The sha256 of the corpus the bundle's models were trained on (None if none recorded)."""
    if not (store.bundle_dir(bundle) / store.MANIFEST).is_file():
        return None
    for card in store.read_manifest(bundle)["artifacts"].values():
        sha = (card.get("corpus") or {}).get("sha256")
        if sha:
            return sha
    return None
