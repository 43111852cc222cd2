"""PACS client, local study cache and pixel pipeline — no Qt.

One module per concept; import the module you need (``import dicom`` stays cheap, so the
viewer's reader does not pull in the network stack):

``config``         per-site PACS list and this workstation's AE title (from ``[dicom]`` in the site TOML)
``errors``         every failure as a typed error with a Russian message
``progress``       the ``TaskState`` protocol long work takes (same methods as ``services.tasks``)
``query``          C-ECHO, C-FIND at PATIENT/STUDY/SERIES/IMAGE level on a reused association
``retrieve``       C-GET / C-MOVE of a study or series into the cache: progress, cancel, resume
``storage_scp``    ARM's C-STORE SCP (the C-MOVE destination), started once and kept running
``cache``          the study cache: files + SQLite index, LRU eviction, pinning, ``open_study``
``importer``       import from a folder or a CD's DICOMDIR (scan, confirm, copy)
``patient_match``  the disc's patient against the EMK patient, differences in words
``reader``         one instance → frame + geometry, or a typed error (never a crash)
``windowing``      window/level through a lookup table into a reused buffer; CT presets
``sorting``        slice order along the series normal
``contexts``       which presentation contexts a C-GET proposes
``_ul``, ``_cget`` the lean DICOM upper layer and C-GET receive loop (the fast path)
``_net``           pynetdicom set up quiet, with Nagle off and typed association failures
"""
