"""The study cache: LRU eviction under a size limit, pinning, slice order, config parsing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dicom.cache import NewInstance, StudyCache, StudyRecord, safe_uid
from dicom.config import load_config
from dicom.errors import CacheError, ConfigError
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study


def _add_study(cache: StudyCache, uid: str, size: int, files: int = 2) -> None:
    cache.register_study(StudyRecord(uid, patient_id="P"))
    items = []
    for k in range(files):
        path = cache.instance_path(uid, "1.2", f"1.2.{k}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        items.append(NewInstance(f"{uid}.{k}", uid, "1.2", path, size))
    cache.add_instances(items)
    cache.set_complete(uid, True)


def test_lru_eviction_under_a_size_limit_spares_pinned_studies(tmp_path: Path) -> None:
    cache = StudyCache(tmp_path / "c", limit_bytes=10_000)
    for n in range(1, 5):
        _add_study(cache, f"1.{n}", 1_000)  # 2 kB each, added in order 1..4
        time.sleep(0.01)  # distinct "added" times
    cache.open_study("1.1")  # a use: 1.1 becomes the most recent, and is pinned
    cache.open_study("1.2", pin=False)  # a use, not pinned
    assert cache.total_size() == 8_000
    assert cache.evict() == []  # under the limit: nothing goes
    evicted = cache.evict(limit_bytes=4_000)
    # least recently used first: 1.3, then 1.4 (never opened); 1.1 is pinned, 1.2 was opened
    assert evicted == ["1.3", "1.4"]
    assert cache.has_study("1.1")
    assert cache.has_study("1.2")
    assert not (tmp_path / "c" / "1.3").exists()
    assert cache.evict(limit_bytes=0) == ["1.2"]  # 1.1 stays while open
    cache.close_study("1.1")
    assert cache.evict(limit_bytes=0) == ["1.1"]
    assert cache.total_size() == 0
    cache.close()


def test_a_pinned_study_cannot_be_removed(tmp_path: Path) -> None:
    cache = StudyCache(tmp_path, 1 << 30)
    _add_study(cache, "1.9", 10)
    with cache.pinned("1.9"):
        with pytest.raises(CacheError):
            cache.remove_study("1.9")
    cache.remove_study("1.9")
    assert not cache.has_study("1.9", complete_only=False)


def test_open_study_orders_slices_by_position_without_network(tmp_path: Path) -> None:
    spec = StudySpec(FakePatient("S1", "Тест^Тест", "20000101"), [SeriesSpec("CT", 6, 16, 16)])
    files = write_study(spec, tmp_path / "src")
    cache = StudyCache(tmp_path / "c", 1 << 30)
    cache.register_study(StudyRecord(spec.study_uid))
    items = []
    import pydicom

    for f in reversed(files):  # indexed in the wrong order, no sort keys
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        dst = cache.instance_path(spec.study_uid, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(f.read_bytes())
        items.append(NewInstance(ds.SOPInstanceUID, spec.study_uid, ds.SeriesInstanceUID, dst, 1))
    cache.add_instances(items)
    opened = cache.open_study(spec.study_uid)
    (paths,) = opened.series.values()
    numbers = [int(pydicom.dcmread(p).InstanceNumber) for p in paths]
    # z = -2.5·k: ascending position is descending instance number
    assert numbers == [6, 5, 4, 3, 2, 1]
    assert not opened.complete
    with pytest.raises(CacheError):
        cache.open_study("9.9.9")


def test_safe_uid_keeps_uids_and_hashes_anything_else() -> None:
    assert safe_uid("1.2.840.10008") == "1.2.840.10008"
    assert safe_uid("../../etc/passwd").startswith("x")
    assert "/" not in safe_uid("a/b")


def test_config_from_the_site_toml_mapping() -> None:
    cfg = load_config(
        {
            "ae_title": "ARM_WS214",
            "storage_port": 11113,
            "pacs": [
                {"name": "ЕРИС", "ae_title": "ERIS", "host": "pacs.local", "port": 104,
                 "dimse_timeout": 45, "tls": {"ca": "/etc/arm/ca.pem"}},
                {"ae_title": "ORTHANC", "host": "10.0.0.5"},
            ],
        }
    )  # fmt: skip
    assert cfg.ae_title == "ARM_WS214"
    eris = cfg.find_pacs("ЕРИС")
    assert (eris.port, eris.timeouts.dimse, eris.timeouts.acse) == (104, 45.0, 10.0)
    assert eris.tls is not None
    assert eris.tls.ca_file == Path("/etc/arm/ca.pem")
    assert cfg.pacs[1].name == "ORTHANC@10.0.0.5"
    assert cfg.pacs[1].port == 104
    assert load_config(None).pacs == ()


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"ae_title": "THIS_TITLE_IS_TOO_LONG"}, "ae_title"),
        ({"storage_port": 70000}, "storage_port"),
        ({"pacs": [{"ae_title": "A"}]}, "pacs[0].host"),
        ({"pacs": [{"ae_title": "A", "host": "h", "acse_timeout": -1}]}, "pacs[0].acse_timeout"),
        ({"pacs": [{"ae_title": "A\\B", "host": "h"}]}, "pacs[0].ae_title"),
        (
            {
                "pacs": [
                    {"ae_title": "A", "host": "h", "name": "x"},
                    {"ae_title": "B", "host": "h", "name": "x"},
                ]
            },
            "pacs",
        ),
    ],
)
def test_config_errors_name_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(data)
    assert info.value.key == key
