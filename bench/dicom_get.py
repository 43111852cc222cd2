"""C-GET of a 400-slice 512×512 CT from Orthanc: ARM's retriever against dcmtk's getscu.

The budget (issue 8): ARM's C-GET ≤ 1.0× the time of ``TCP_NODELAY=1 getscu`` on the same
study, measured side by side in the same run, medians of several alternating runs.  Both talk
to one Orthanc started here with ``TCP_NODELAY=1`` (DICOM.md: without it every instance waits
for a delayed ACK and the comparison measures Nagle, not the clients).

ARM's figure is the whole product path, :meth:`dicom.retrieve.Retriever.retrieve` into an
empty cache: the study and series queries on the reused query association, the transfer, the
index writes.  Also printed: the first-instance latency (start of the retrieve → first instance
written into the cache), which the viewer's "first image ≤ 1 s" budget builds on.

    .venv/bin/python -m bench.dicom_get              # 2×200 slices, 5 runs each
    .venv/bin/python -m bench.dicom_get --runs 3 --associations 1 2 --pynetdicom
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from arm.orthanc_local import INSTALL, Orthanc
from dicom.cache import StudyCache
from dicom.config import PacsConfig
from dicom.progress import SimpleState
from dicom.query import PacsConnection
from dicom.retrieve import Retriever
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study

ARM_AE = "ARMBENCH"


def run_getscu(orthanc: Orthanc, study_uid: str, out: Path, expected: int) -> float:
    exe = shutil.which("getscu")
    if exe is None:
        raise SystemExit(f"getscu missing: {INSTALL}")
    out.mkdir(parents=True)
    cmd = [
        exe, "-aet", ARM_AE, "-aec", orthanc.aet,
        "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
        "-od", str(out), "127.0.0.1", str(orthanc.dicom_port),
    ]  # fmt: skip
    env = dict(os.environ, TCP_NODELAY="1")
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=600)
    elapsed = time.perf_counter() - t
    n = len(list(out.iterdir()))
    if n != expected:
        raise SystemExit(f"getscu wrote {n} files of {expected}")
    return elapsed


def run_arm(
    conn: PacsConnection, study_uid: str, root: Path, associations: int, expected: int
) -> tuple[float, float]:
    cache = StudyCache(root, 1 << 40)
    first: list[float] = []

    def on_instance(_item: object) -> None:
        if not first:
            first.append(time.perf_counter())

    retriever = Retriever(conn, cache, associations=associations)
    t = time.perf_counter()
    result = retriever.retrieve(study_uid, SimpleState(), on_instance=on_instance)
    elapsed = time.perf_counter() - t
    cache.close()
    if result.received != expected or not result.complete:
        raise SystemExit(f"ARM retrieved {result.received} of {expected}")
    return elapsed, first[0] - t


def run_pynetdicom(orthanc: Orthanc, study_uid: str, out: Path) -> float:
    """Plain pynetdicom as DICOM.md tuned it (raw writes, max_pdu=0, Nagle off): for context."""
    from pydicom.dataset import Dataset
    from pynetdicom import AE, build_role, evt

    from dicom._net import nodelay_handler

    out.mkdir(parents=True)

    def on_store(event: evt.Event) -> int:
        (out / str(event.request.AffectedSOPInstanceUID)).write_bytes(event.encoded_dataset())  # type: ignore[union-attr]
        return 0

    ae = AE(ae_title=ARM_AE)
    ae.maximum_pdu_size = 0
    ae.add_requested_context("1.2.840.10008.5.1.4.1.2.2.3")
    ae.add_requested_context(
        "1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
    )
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = study_uid
    t = time.perf_counter()
    assoc = ae.associate(
        "127.0.0.1", orthanc.dicom_port, ae_title=orthanc.aet, max_pdu=0,
        ext_neg=[build_role("1.2.840.10008.5.1.4.1.1.2", scp_role=True)],
        evt_handlers=[(evt.EVT_C_STORE, on_store), nodelay_handler],
    )  # fmt: skip
    for _status, _ident in assoc.send_c_get(ds, "1.2.840.10008.5.1.4.1.2.2.3"):
        pass
    assoc.release()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--series", type=int, default=2, help="series the 400 slices are split into")
    ap.add_argument("--slices", type=int, default=400)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--associations", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--pynetdicom", action="store_true", help="also time plain tuned pynetdicom")
    args = ap.parse_args()
    expected = args.slices

    tmp = Path(tempfile.mkdtemp(prefix="arm-bench-dicom-"))
    orthanc = None
    try:
        per = args.slices // args.series
        spec = StudySpec(
            FakePatient("BENCH-1", "Бенч^Тест", "19700101"),
            [SeriesSpec("CT", per, args.size, args.size) for _ in range(args.series)],
        )
        t = time.perf_counter()
        files = write_study(spec, tmp / "src")
        gen = time.perf_counter() - t
        orthanc = Orthanc.start(tmp / "orthanc", nodelay=True)
        t = time.perf_counter()
        orthanc.upload(files)
        print(
            f"study: {len(files)} instances {args.size}×{args.size} in {args.series} series, "
            f"{sum(f.stat().st_size for f in files) / 1e6:.0f} MB "
            f"(generated {gen:.1f} s, uploaded {time.perf_counter() - t:.1f} s); "
            f"{socket.gethostname()}, {os.cpu_count()} cores"
        )
        conn = PacsConnection(
            PacsConfig("Orthanc", orthanc.aet, "127.0.0.1", orthanc.dicom_port), ARM_AE
        )
        k = 0

        def fresh() -> Path:
            nonlocal k
            k += 1
            return tmp / f"out{k}"

        def clean(path: Path) -> None:
            shutil.rmtree(path, ignore_errors=True)
            os.sync()  # no writeback of the previous run's 210 MB inside the next timed run
            time.sleep(0.2)

        # warm-up: Orthanc's and the OS's caches, Python imports
        p = fresh()
        run_getscu(orthanc, spec.study_uid, p, expected)
        clean(p)
        p = fresh()
        run_arm(conn, spec.study_uid, p, args.associations[0], expected)
        clean(p)

        times: dict[str, list[float]] = {"getscu": []}
        firsts: dict[str, list[float]] = {}
        for _ in range(args.runs):
            p = fresh()
            times["getscu"].append(run_getscu(orthanc, spec.study_uid, p, expected))
            clean(p)
            for n in args.associations:
                p = fresh()
                total, first = run_arm(conn, spec.study_uid, p, n, expected)
                times.setdefault(f"arm×{n}", []).append(total)
                firsts.setdefault(f"arm×{n}", []).append(first)
                clean(p)
            if args.pynetdicom:
                p = fresh()
                times.setdefault("pynetdicom", []).append(
                    run_pynetdicom(orthanc, spec.study_uid, p)
                )
                clean(p)
        conn.close()

        anchor = statistics.median(times["getscu"])
        print(f"\n{'client':<34}{'median':>9}{'min':>8}{'max':>8}{'ratio':>8}{'first':>9}")
        for name, values in times.items():
            label = {
                "getscu": "TCP_NODELAY=1 getscu (anchor)",
                "pynetdicom": "pynetdicom tuned, 1 association",
            }.get(name, f"ARM Retriever, {name[4:]} association(s)")
            med = statistics.median(values)
            first = f"{statistics.median(firsts[name]) * 1000:.0f} ms" if name in firsts else ""
            print(
                f"{label:<34}{med:>8.3f}s{min(values):>7.3f}s{max(values):>7.3f}s{med / anchor:>7.2f}×{first:>9}"
            )
        best = min((statistics.median(v), n) for n, v in times.items() if n.startswith("arm"))
        print(
            f"\nbudget: ARM ≤ 1.0× getscu — {best[1]}: {best[0]:.3f} s vs {anchor:.3f} s = "
            f"{best[0] / anchor:.2f}× ({'met' if best[0] <= anchor else 'NOT met'})"
        )
    finally:
        if orthanc is not None:
            orthanc.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
