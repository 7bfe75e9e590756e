"""Stored objects (issue 13, item 5): the object-store protocol, the local store, and the demo's audio."""

from __future__ import annotations

import io
import wave

import pytest

from dsr.datamap.model import DataMapError
from dsr.datamap.objects import (
    LocalObjectStore,
    ObjectStoreError,
    delete_verified,
    object_store,
    split_uri,
)
from dsr.demo.harmony.audio import recording_wav

URI = "s3://harmony-cc-recordings/2026/11/20/REC-2026-000001.wav"


def test_the_local_store_keeps_an_object_at_bucket_and_key(tmp_path):
    store = LocalObjectStore(tmp_path)
    assert not store.exists(URI)
    store.put(URI, b"RIFF....")
    assert (tmp_path / "harmony-cc-recordings" / "2026" / "11" / "20" / "REC-2026-000001.wav").read_bytes() == b"RIFF...."
    assert store.exists(URI) and store.get(URI) == b"RIFF...."
    store.put(URI, b"again")  # replaced whole, never half-written
    assert store.get(URI) == b"again"
    assert [p.name for p in (tmp_path / "harmony-cc-recordings/2026/11/20").iterdir()] == ["REC-2026-000001.wav"]
    delete_verified(store, URI)
    assert not store.exists(URI)
    delete_verified(store, URI)  # already gone: a retry after a crash finds nothing to do, and that is fine
    with pytest.raises(ObjectStoreError, match="no such object"):
        store.get(URI)


@pytest.mark.parametrize("uri", [
    "s3://bucket/../../etc/passwd", "s3://../x", "s3://bucket/a/./b", "file:///etc/passwd", "/etc/passwd",
    "s3://bucket", "s3://bucket/", "s3://bucket/key?versionId=1", "harmony-cc-recordings/x.wav"])
def test_addresses_that_are_not_objects_in_a_bucket_are_refused(tmp_path, uri):
    store = LocalObjectStore(tmp_path)
    with pytest.raises(ObjectStoreError):
        store.put(uri, b"x")
    with pytest.raises(ObjectStoreError):
        store.delete(uri)


def test_split_uri():
    assert split_uri(URI) == ("harmony-cc-recordings", "2026/11/20/REC-2026-000001.wav")


class _StuckStore(LocalObjectStore):
    """A store whose deletes are acknowledged but do nothing (an eventually consistent bucket, a bug)."""

    def delete(self, uri: str) -> None:
        pass


class _BrokenStore(LocalObjectStore):
    def delete(self, uri: str) -> None:
        raise ObjectStoreError(f"{uri} could not be deleted: permission denied")


def test_a_deletion_is_verified_not_assumed(tmp_path):
    stuck = _StuckStore(tmp_path)
    stuck.put(URI, b"audio")
    with pytest.raises(ObjectStoreError, match="still there after it was deleted"):
        delete_verified(stuck, URI)
    with pytest.raises(ObjectStoreError, match="permission denied"):
        delete_verified(_BrokenStore(tmp_path), URI)


def test_the_configured_store(tmp_path):
    assert isinstance(object_store({"OBJECT_STORE_DIR": str(tmp_path)}), LocalObjectStore)
    with pytest.raises(DataMapError, match="unknown object store 's3'"):
        object_store({"OBJECT_STORE": "s3", "OBJECT_STORE_DIR": str(tmp_path)})
    with pytest.raises(DataMapError, match="OBJECT_STORE_DIR"):
        object_store({})


def test_the_demo_audio_is_a_real_short_wav():
    data = recording_wav(7)
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 1, 8000)
        assert wav.getnframes() == 3200  # 0.4 s
        frames = wav.readframes(wav.getnframes())
    assert max(frames) - min(frames) > 150  # a tone, not silence
    assert recording_wav(7) == data and recording_wav(8) != data
    assert len(data) < 4000
